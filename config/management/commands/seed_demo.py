import os

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Idempotently seed the demo: a staff superuser, org `demo` it owns, a sandbox connection, a balance."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("DEMO_USERNAME", "admin"))
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD", "admin-demo-password"))
        parser.add_argument("--balance", type=int, default=10_000, help="Opening balance, minor units.")
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))

    def handle(self, *args, username, password, balance, port, **options):
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
        if created:
            user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        call_command("create_org", "demo", owner=username, name="Demo", balance=balance, sandbox=True,
                     stdout=self.stdout)
        base = f"http://127.0.0.1:{port}"
        shown_password = password if created else "(unchanged; set when first created)"
        self.stdout.write(self.style.SUCCESS(f"""
Demo ready.
  Staff login (admin and API): {username} / {shown_password}
  Admin:        {base}/admin/
  API docs:     {base}/api/docs
  Health:       {base}/healthz
  Org header:   orgid: demo
Try:
  TOKEN=$(curl -s -X POST {base}/api/auth/token -H 'Content-Type: application/json' \\
    -d '{{"username": "{username}", "password": "<password>"}}' \\
    | python3 -c 'import sys,json; print(json.load(sys.stdin)["access"])')
  curl -s "{base}/phone/available?countryCode=US&areaCode=415&smsEnabled=true&limit=5" \\
    -H "Authorization: Bearer $TOKEN" -H "orgid: demo"
"""))
