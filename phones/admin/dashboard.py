"""The admin index as a dashboard: numbers by status, monthly recurring revenue, low balances,
SMS / call volume and spend over the last 30 days, and what needs staff's attention (past-due
numbers, purchases whose outcome is unknown), with a link to the sandbox's simulator.

Every figure is one aggregate query (GROUP BY in SQL, never a loop over rows): ten queries
whatever the size of the platform. The charts are SVG drawn here, inline in the page: no
JavaScript, no CDN.

`install` hands the figures to the index template (templates/admin/index.html) by wrapping the
site's index view; nothing else about the index changes.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from billing.models import LedgerEntry, OrgBalance
from core.display import formatted_number, major_units, money
from phones.models import Call, Direction, Message, PhoneNumber
from phones.numbers.selectors import purchase_jobs_unsettled

DAYS = 30
# Below this (minor units) an org that pays for numbers is flagged, even if it covers a month.
LOW_BALANCE = 10_00
LISTED = 8

STATUS_COLOURS = {"active": "#137333", "pending": "#b07c00", "releasing": "#b07c00", "past_due": "#b3261e",
                  "missing": "#b3261e", "failed": "#9aa0a6", "released": "#bdc1c6"}


@dataclass
class Series:
    label: str
    colour: str
    values: list[int]


# ---------------------------------------------------------------------------------------------
# Charts (inline SVG)

def _n(value: float) -> str:
    """A coordinate, to a tenth of a unit (format_html escapes its arguments to strings first)."""
    return f"{value:.1f}"


def bar_chart(days: list[date], series: list[Series], *, label, chart_id: str, axis=None,
              height: int = 150) -> SafeString:
    """Stacked daily bars: one column per day, one colour per series; `label` formats a value (the
    legend, the tooltips), `axis` the scale's (default `label`). Each bar has a <title>."""
    axis = axis or label
    width, left, bottom, top = 600, 52, 20, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    totals = [sum(s.values[i] for s in series) for i in range(len(days))]
    peak = max(totals, default=0) or 1
    step = plot_w / max(len(days), 1)
    bar_w = max(step * 0.72, 1)
    parts = []
    for fraction in (0, 0.5, 1):  # gridlines; the bottom and top ones with their values
        y = top + plot_h * (1 - fraction)
        parts.append(format_html('<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#e0e0e0"/>', left, width - 4, _n(y),
                                 _n(y)))
        if fraction != 0.5:
            parts.append(format_html('<text x="{}" y="{}" text-anchor="end" font-size="10" fill="#666">{}</text>',
                                     left - 4, _n(y + 3), axis(round(peak * fraction))))
    for i, day in enumerate(days):
        x, base = left + i * step + (step - bar_w) / 2, top + plot_h
        tip = f"{day:%b %-d}: " + ", ".join(f"{s.label} {label(s.values[i])}" for s in series)
        rects = []
        for s in series:
            h = plot_h * s.values[i] / peak
            if h > 0:
                base -= h
                rects.append(format_html('<rect x="{}" y="{}" width="{}" height="{}" fill="{}"/>',
                                         _n(x), _n(base), _n(bar_w), _n(h), s.colour))
        parts.append(format_html('<g class="bar" data-day="{}"><title>{}</title>'
                                 '<rect x="{}" y="{}" width="{}" height="{}" fill="transparent"/>{}</g>',
                                 day.isoformat(), tip, _n(x), top, _n(bar_w), plot_h, mark_safe("".join(rects))))
        if (len(days) - 1 - i) % 7 == 0:  # a week apart, ending today
            last = i == len(days) - 1
            parts.append(format_html('<text x="{}" y="{}" text-anchor="{}" font-size="10" fill="#666">{}</text>',
                                     _n(x + bar_w if last else x + bar_w / 2), height - 6,
                                     "end" if last else "middle", f"{day:%b %-d}"))
    legend = format_html_join(" ", '<span style="white-space:nowrap"><span style="display:inline-block;width:10px;'
                              'height:10px;background:{};margin-right:4px"></span>{}: <strong>{}</strong></span>',
                              ((s.colour, s.label, label(sum(s.values))) for s in series))
    return format_html('<svg id="{}" class="chart" viewBox="0 0 {} {}" width="100%" role="img" '
                       'aria-label="{}" xmlns="http://www.w3.org/2000/svg" style="max-width:{}px;display:block">{}'
                       '</svg><div class="legend">{} <span class="quiet">(last {} days)</span></div>',
                       chart_id, width, height, ", ".join(s.label for s in series), width,
                       mark_safe("".join(parts)), legend, DAYS)


def hbar_chart(rows: list[tuple[str, int, str, str]], *, chart_id: str) -> SafeString:
    """Horizontal bars: (label, value, colour, link) per row."""
    if not rows:
        return mark_safe('<p class="quiet">None yet.</p>')
    width, label_w, row_h = 600, 90, 22
    peak = max(v for _, v, _, _ in rows) or 1
    bars = format_html_join("", '<a href="{}"><g class="hbar" data-status="{}"><title>{}: {}</title>'
                            '<text x="{}" y="{}" text-anchor="end" font-size="12" fill="#333">{}</text>'
                            '<rect x="{}" y="{}" width="{}" height="{}" rx="3" fill="{}"/>'
                            '<text x="{}" y="{}" font-size="12" fill="#333">{}</text></g></a>', (
                                (link, name, name, value, label_w - 6, i * row_h + 15, name, label_w, i * row_h + 4,
                                 _n(max((width - label_w - 50) * value / peak, 2)), row_h - 8, colour,
                                 _n(label_w + max((width - label_w - 50) * value / peak, 2) + 6), i * row_h + 15,
                                 value)
                                for i, (name, value, colour, link) in enumerate(rows)))
    return format_html('<svg id="{}" class="chart" viewBox="0 0 {} {}" width="100%" role="img" aria-label="numbers '
                       'by status" xmlns="http://www.w3.org/2000/svg" style="max-width:{}px;display:block">{}</svg>',
                       chart_id, width, len(rows) * row_h + 4, width, bars)


# ---------------------------------------------------------------------------------------------
# Figures (one aggregate query each)

def _days(today: date) -> list[date]:
    return [today - timedelta(days=DAYS - 1 - i) for i in range(DAYS)]


def _since(first_day: date) -> datetime:
    return timezone.make_aware(datetime.combine(first_day, time.min))


def _by_day(rows, days: list[date], value: str, **match) -> list[int]:
    totals = {d: 0 for d in days}
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()) and row["day"] in totals:
            totals[row["day"]] += row[value] or 0
    return [totals[d] for d in days]


def numbers_by_status() -> list[tuple[str, int, str, str]]:
    counts = dict(PhoneNumber.objects.order_by().values_list("status").annotate(n=Count("id")))
    base = "/admin/phones/phonenumber/?status__exact="
    return [(label, counts[value], STATUS_COLOURS.get(value, "#5f6368"), base + value)
            for value, label in PhoneNumber.Status.choices if counts.get(value)]


def monthly_recurring() -> list[dict]:
    """What billed numbers bring in a month, per currency."""
    return [{"amount": money(row["total"] or 0, row["currency"]), "numbers": row["n"]}
            for row in PhoneNumber.objects.filter(status__in=PhoneNumber.BILLED_STATUSES).order_by("currency")
            .values("currency").annotate(total=Sum("monthly_fee"), n=Count("id"))]


def low_balances() -> tuple[list[dict], int]:
    """Orgs that pay for numbers and whose balance will not cover next month (or is under
    LOW_BALANCE): their renewals fail first. Lowest first."""
    monthly = (PhoneNumber.objects.filter(org=OuterRef("org"), status__in=PhoneNumber.BILLED_STATUSES)
               .order_by().values("org").annotate(total=Sum("monthly_fee")).values("total"))
    low = (OrgBalance.objects.annotate(monthly=Coalesce(Subquery(monthly), 0))
           .filter(Q(monthly__gt=0) & (Q(balance__lt=F("monthly")) | Q(balance__lt=LOW_BALANCE))))
    rows = [{"org": b.org, "balance": money(b.balance, b.currency), "monthly": money(b.monthly, b.currency),
             "short": b.balance < b.monthly}
            for b in low.select_related("org").order_by("balance", "org__slug")[:LISTED]]
    return rows, (low.count() if len(rows) == LISTED else len(rows))


def traffic(days: list[date]) -> dict:
    since = _since(days[0])
    texts = list(Message.objects.filter(created_at__gte=since).order_by()
                 .annotate(day=TruncDate("created_at")).values("day", "direction")
                 .annotate(n=Count("id"), segments=Sum("segments")))
    calls = list(Call.objects.filter(created_at__gte=since).order_by()
                 .annotate(day=TruncDate("created_at")).values("day", "direction")
                 .annotate(n=Count("id"), seconds=Sum("duration")))
    # Spend: what orgs were charged (holds, renewals, adjustments) net of reversals and refunds.
    spend = list(LedgerEntry.objects.filter(created_at__gte=since).exclude(kind=LedgerEntry.Kind.TOPUP).order_by()
                 .annotate(day=TruncDate("created_at")).values("day", "currency").annotate(total=Sum("amount")))
    currencies = sorted({row["currency"] for row in spend}) or ["USD"]
    spend_charts = []
    for currency in currencies:
        values = [-v for v in _by_day(spend, days, "total", currency=currency)]
        spend_charts.append(bar_chart(days, [Series(f"Spend ({currency})", "#7b1fa2", values)],
                                      label=lambda v, c=currency: money(v, c), axis=major_units,
                                      chart_id=f"chart-spend-{currency}"))
    minutes_in = [(s + 59) // 60 for s in _by_day(calls, days, "seconds", direction=Direction.INBOUND)]
    minutes_out = [(s + 59) // 60 for s in _by_day(calls, days, "seconds", direction=Direction.OUTBOUND)]
    return {
        "sms": bar_chart(days, [Series("Inbound", "#1a73e8", _by_day(texts, days, "segments",
                                                                      direction=Direction.INBOUND)),
                                Series("Outbound", "#34a853", _by_day(texts, days, "segments",
                                                                       direction=Direction.OUTBOUND))],
                         label=lambda v: f"{v:,}", chart_id="chart-sms"),
        "sms_total": sum(row["n"] for row in texts),
        "calls": bar_chart(days, [Series("Inbound", "#1a73e8", _by_day(calls, days, "n", direction=Direction.INBOUND)),
                                  Series("Outbound", "#34a853", _by_day(calls, days, "n",
                                                                         direction=Direction.OUTBOUND))],
                           label=lambda v: f"{v:,}", chart_id="chart-calls"),
        "call_minutes": sum(minutes_in) + sum(minutes_out),
        "spend": spend_charts,
    }


def attention() -> dict:
    past_due = PhoneNumber.objects.filter(status=PhoneNumber.Status.PAST_DUE)
    past_due_rows = list(past_due.select_related("org").order_by("next_billing_date", "id")[:LISTED])
    unsettled = purchase_jobs_unsettled()
    unsettled_rows = list(unsettled.select_related("org", "phone_number").order_by("created_at")[:LISTED])
    today = timezone.localdate()
    return {
        "past_due": [{"pk": n.pk, "number": formatted_number(n.e164), "org": n.org,
                      "monthly": money(n.monthly_fee, n.currency),
                      "days": max((today - n.next_billing_date).days, 0) if n.next_billing_date else 0}
                     for n in past_due_rows],
        "past_due_count": past_due.count() if len(past_due_rows) == LISTED else len(past_due_rows),
        "unsettled": [{"pk": j.pk, "public_id": j.public_id, "org": j.org,
                       "number": formatted_number(j.phone_number.e164) if j.phone_number else "—",
                       "finished_at": j.finished_at} for j in unsettled_rows],
        "unsettled_count": unsettled.count() if len(unsettled_rows) == LISTED else len(unsettled_rows),
    }


def dashboard_context() -> dict:
    days = _days(timezone.localdate())
    statuses = numbers_by_status()
    low, low_count = low_balances()
    return {"dashboard": {
        "statuses": hbar_chart(statuses, chart_id="chart-statuses"),
        "numbers_total": sum(v for _, v, _, _ in statuses),
        "mrr": monthly_recurring(),
        "low_balances": low, "low_count": low_count, "low_threshold": money(LOW_BALANCE, "USD"),
        **traffic(days), **attention(),
    }}


def install(site) -> None:
    """Give the site's index page the dashboard's figures. The index view already requires a
    staff login; the figures are shown to staff who may see numbers and the ledger."""
    index = site.index

    @functools.wraps(index)
    def index_with_dashboard(request, extra_context=None):
        user = request.user
        shown = user.is_active and user.has_perm("phones.view_phonenumber") and user.has_perm(
            "billing.view_ledgerentry")
        return index(request, {**(dashboard_context() if shown else {}), **(extra_context or {})})

    site.index = index_with_dashboard
