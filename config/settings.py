"""Settings, all from the environment (see .env.example for every variable).

Embedded defaults make `make run` work on a fresh machine: SQLite, and Celery
running tasks eagerly in-process when no broker URL is set. Production sets
DATABASE_URL (PostgreSQL), CELERY_BROKER_URL (Redis), SECRET_KEY and
FIELD_ENCRYPTION_KEYS.
"""
import base64
import hashlib
import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
TESTING = "pytest" in sys.modules
if not TESTING:  # the tests configure themselves, whatever a developer's .env says
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)


def env_bool(name: str, default: bool) -> bool:
    """A boolean that fails loudly: "yes", "ture" or "2" is a typo, not False."""
    raw = env.str(name, default="")
    if raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false/1/0), got {raw!r}")


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    SECRET_KEY = "insecure-dev-key-only-for-debug-and-tests"
elif len(SECRET_KEY.encode()) < 32 and not DEBUG:
    # It signs the API's JWTs (HS256), which need at least 32 bytes of key.
    raise ImproperlyConfigured("SECRET_KEY must be at least 32 bytes long")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Webhook URLs we give the provider, and the URL a webhook signature is checked
# against, are built from this, never from the Host header.
# Unset, it follows PORT (the port `make run` serves on).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}").rstrip("/")

# How long each web process may answer webhooks from its own copy of a number's routing,
# connection and org (webhooks.lookup_cache): a change made elsewhere reaches every process
# within this many seconds, and at once in the process that made it. 0: read them every time.
WEBHOOK_CACHE_SECONDS = env.float("WEBHOOK_CACHE_SECONDS", default=5.0)
# Milliseconds an inbound call's row may wait in its web process before a thread inserts it with
# the others queued meanwhile (core.write_behind): the call's webhook answers without writing.
# 0: inserted in the request (the tests' default; a process killed with SIGKILL loses none).
WRITE_BEHIND_MS = env.float("WRITE_BEHIND_MS", default=0.0 if TESTING else 50.0)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "rest_framework_api_key",  # the API key model's base and hasher (orgs.OrgAPIKey); its own model is unused
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and ReDoc served from here, not a CDN
    "config",  # the operator's management commands (create_org, seed_demo), which compose every app
    "orgs",  # app label "telephony"
    "billing",
    "phones",
    "webhooks",
    "sandbox",
    "phones.broadcasts",  # app label "broadcasts": its own tables and migrations
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's CSS, the API docs' assets) from the web process, in development and production.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Lets core.prepared prepare the webhooks' statements (Django's own cursors bind on the client
    # and never prepare); None turns preparing off, e.g. behind PgBouncer older than 1.21.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several request threads and eager tasks share the file: wait instead of "database is locked".
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock when a transaction
    # begins, so a transaction that reads then writes waits its turn (busy timeout) instead of
    # failing at once when it would have had to upgrade its read lock to a write lock.
    sqlite_options = DATABASES["default"].setdefault("OPTIONS", {})
    sqlite_options.setdefault("timeout", env.int("SQLITE_TIMEOUT", default=20))
    sqlite_options.setdefault("transaction_mode", "IMMEDIATE")
    sqlite_options.setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite has no covering indexes: it builds phones' `include=` index (phone_org_listing)
    # on its key columns alone, as wanted (PostgreSQL gets the covering one). Not a warning to show
    # on every `migrate` of `make run`.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves what `collectstatic` compressed and fingerprinted; development and tests
    # serve the apps' files as they are (WHITENOISE_USE_FINDERS), with no collectstatic step.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage" if DEBUG or TESTING
                    else "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# Credentials at rest: a list of Fernet keys, newest first. Add a new key at the
# front, run `manage.py reencrypt_credentials`, then drop the old one.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
if not FIELD_ENCRYPTION_KEYS:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is required when DEBUG is off "
            "(generate one: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        )
    FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()]
for _key in FIELD_ENCRYPTION_KEYS:
    # Refused now, not later in the middle of a write that has already saved half of its rows.
    try:
        if len(base64.urlsafe_b64decode(_key.encode())) != 32:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key (32 url-safe base64-encoded bytes): "
            "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'") from None

REST_FRAMEWORK = {
    # An org API key (`Bearer tpk_…`) first: it tells its keys from JWTs by their prefix and passes on the rest.
    "DEFAULT_AUTHENTICATION_CLASSES": ["orgs.authentication.OrgAPIKeyAuthentication",
                                       "rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a depth limit and no NUL characters: a 400, never a RecursionError or a database error.
    "DEFAULT_PARSER_CLASSES": ["core.parsers.LimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "core.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # The client address throttles count is REMOTE_ADDR; behind N proxies that each append to
    # X-Forwarded-For, set NUM_PROXIES=N. Never trust a client-sent X-Forwarded-For as such.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

# Shared state between processes: the throttles' counters. Redis in production (CACHE_URL, or
# REDIS_URL, e.g. redis://redis:6379/1); each process's own memory when neither is set.
CACHES = {"default": env.cache_url_config(env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
                                          or "locmemcache://")}

# Logins and refreshes (orgs.auth): per username (per user for a refresh) and per client address;
# failed API-key attempts per client address. DRF rates: "<count>/<s|min|hour|day>". Over the rate
# is a 429 with Retry-After; the window slides, so the right password works again once it passes.
AUTH_THROTTLE_RATE = env.str("AUTH_THROTTLE_RATE", default="10/min")
AUTH_ADDRESS_THROTTLE_RATE = env.str("AUTH_ADDRESS_THROTTLE_RATE", default="30/min")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Telephony platform API",
    "DESCRIPTION": (
        "Search, buy, import, configure, route, verify and release phone numbers. "
        "A signed-in user's call sends `Authorization: Bearer <access>` and `orgid: <org slug>`; "
        "a server's call sends `Authorization: Bearer <org API key>` alone."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "APPEND_COMPONENTS": {
        "securitySchemes": {"orgid": {"type": "apiKey", "in": "header", "name": "orgid",
                                      "description": "The org's slug: sent with a signed-in user's token (jwtAuth) "
                                                     "on every org-scoped operation; not with an org API key."}},
    },
    # Each operation's own requirements (core.openapi.AutoSchema): none to log in, `jwtAuth` with `orgid`,
    # or `orgApiKey`.
    "SECURITY": [],
    "ENUM_NAME_OVERRIDES": {
        "RoutingModeEnum": "phones.models.PhoneNumber.RoutingMode",
        "NumberStatusEnum": "phones.models.PhoneNumber.Status",
        "BroadcastStatusEnum": "phones.broadcasts.models.Broadcast.Status",
        "BroadcastRecipientStatusEnum": "phones.broadcasts.models.BroadcastRecipient.Status",
    },
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "core.openapi.path_ids_named_id"],
}

# Celery: with no broker, tasks run eagerly in the calling process (the embedded default).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="telephony")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fixup closes the database connection around every task, unless it may reuse it
# for this many: config.celery closes it by Django's rules instead (CONN_MAX_AGE, errors).
CELERY_DB_REUSE_MAX = 1000
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
if not CELERY_BROKER_URL:
    # Even an eager task goes through a producer (Celery serializes its arguments with it), whose
    # connection, never opened, would be an amqp one with no host: kombu's "No hostname was
    # supplied" on every task. With no broker, that producer is an in-memory one.
    CELERY_BROKER_WRITE_URL = "memory://localhost/"
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "billing-renewals": {"task": "billing.tasks.renew_due_numbers",
                         "schedule": env.int("RENEWAL_INTERVAL_SECONDS", default=3600)},
    # Verify every org's numbers against its provider: flags numbers gone there, lists importable ones.
    "phones-reconcile": {"task": "phones.tasks.reconcile_all",
                         "schedule": env.int("RECONCILE_INTERVAL_SECONDS", default=6 * 3600)},
    # Inbound texts are threaded by a task their webhook sends; this catches any whose task was lost.
    "inbound-sms-sweep": {"task": "webhooks.tasks.thread_inbound_sms", "schedule": 60},
    # Jobs whose task never reached the broker (it was down when they were enqueued), or was lost: sent again.
    "jobs-requeue-stale": {"task": "phones.tasks.requeue_stale_jobs",
                           "schedule": env.int("JOB_REQUEUE_INTERVAL_SECONDS", default=60)},
    # Each org's recording retention: recordings older than it deleted at the provider, then here.
    "recordings-retention": {"task": "phones.recordings.tasks.delete_expired_recordings",
                             "schedule": env.int("RECORDING_RETENTION_INTERVAL_SECONDS", default=3600)},
    # Broadcasts: starts the scheduled ones that are due and re-sends batches whose task was lost.
    "broadcasts-tick": {"task": "phones.broadcasts.tasks.broadcasts_tick",
                        "schedule": env.int("BROADCAST_TICK_SECONDS", default=30)},
    # The sandbox's delivery receipts for the texts it accepted (sandbox.receipts).
    "sandbox-delivery-receipts": {"task": "sandbox.tasks.post_delivery_receipts",
                                  "schedule": env.int("SANDBOX_RECEIPT_INTERVAL_SECONDS", default=5)},
}

# Seconds a recording's signed media link (GET /recordings/{id} → mediaUrl) plays before it expires.
RECORDING_URL_TTL = env.int("RECORDING_URL_TTL", default=600)

# Outbound HTTP to providers: seconds before a request is given up as a timeout.
PROVIDER_TIMEOUT = env.float("PROVIDER_TIMEOUT", default=15.0)
# Seconds a worker owns a running job before another copy of the task may take it over.
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=300)
# How many times a job is retried after transient provider errors, with exponential backoff.
JOB_MAX_RETRIES = env.int("JOB_MAX_RETRIES", default=6)
# A job still queued this long after it was sent (or a running one whose lease expired this long ago)
# is sent again by beat (phones.tasks.requeue_stale_jobs). Keep it above the longest retry backoff
# (5 minutes + jitter), so a job waiting for its retry is not sent twice.
JOB_REQUEUE_AFTER_SECONDS = env.int("JOB_REQUEUE_AFTER_SECONDS", default=360)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"twilio.http_client": {"level": "WARNING"}},
}

# Requests to URLs a tenant chose (a connection's publicConfig.apiBaseUrl, the org's automation and
# AI webhooks) go only to https URLs whose addresses are public (core.outbound): loopback, private,
# link-local/metadata and other internal addresses are refused when connecting.
# Host names trusted wherever they resolve, over http too (e.g. a self-hosted Twilio-compatible API
# on a private network). Exact names, comma-separated.
OUTBOUND_ALLOWED_HOSTS = env.list("OUTBOUND_ALLOWED_HOSTS", default=[])
# Loopback (127.0.0.1, ::1, localhost) allowed as well, over http: local development, e.g. the
# sandbox served over HTTP. Defaults to DEBUG; never turn it on in production.
OUTBOUND_ALLOW_LOOPBACK = env_bool("OUTBOUND_ALLOW_LOOPBACK", DEBUG)

# Broadcasts (phones.broadcasts). Prices in minor units of the org's currency: per SMS segment, and
# per MMS message (a text with media is billed as one MMS whatever its length).
SMS_SEGMENT_PRICE = env.int("SMS_SEGMENT_PRICE", default=1)
MMS_MESSAGE_PRICE = env.int("MMS_MESSAGE_PRICE", default=2)
# Each sender's rate (messages per second) unless the broadcast names one: long codes 1/s, toll-free 3/s,
# a messaging service its configured rate (what the account bought from the carrier).
BROADCAST_RATE_LONG_CODE = env.float("BROADCAST_RATE_LONG_CODE", default=1.0)
BROADCAST_RATE_TOLL_FREE = env.float("BROADCAST_RATE_TOLL_FREE", default=3.0)
BROADCAST_RATE_MESSAGING_SERVICE = env.float("BROADCAST_RATE_MESSAGING_SERVICE", default=10.0)
# The token buckets every worker shares: REDIS_URL, else the broker when it is Redis. With neither (the
# embedded defaults: eager Celery, one process) the buckets live in the process, which is then exact.
BROADCAST_REDIS_URL = env.str("REDIS_URL", default="") or (
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "")
# Recipients a batch task claims before it hands on to the next one.
BROADCAST_BATCH_SIZE = env.int("BROADCAST_BATCH_SIZE", default=200)
# A recipient claimed this long ago by a worker that never finished is looked up at the provider:
# sent (kept as sent) or not (sent now). Keep it above PROVIDER_TIMEOUT.
BROADCAST_CLAIM_SECONDS = env.int("BROADCAST_CLAIM_SECONDS", default=60)
# Transient provider errors (5xx, timeouts, 20429) are retried this many times, with exponential backoff.
BROADCAST_MAX_ATTEMPTS = env.int("BROADCAST_MAX_ATTEMPTS", default=5)
# The sandbox's delivery receipts: the share (0..1) reported undelivered (30003) and failed (30007).
SANDBOX_UNDELIVERED_RATE = env.float("SANDBOX_UNDELIVERED_RATE", default=0.0)
SANDBOX_FAILED_RATE = env.float("SANDBOX_FAILED_RATE", default=0.0)
# With no broker, broadcasts are sent by a thread of the web process (one per sender) instead of Celery.
BROADCAST_IN_PROCESS_RUNNER = env_bool("BROADCAST_IN_PROCESS_RUNNER", True)
# The sandbox's messaging service rate (messages per second; its long codes send 1/s, toll-free 3/s).
SANDBOX_MESSAGING_SERVICE_RATE = env.float("SANDBOX_MESSAGING_SERVICE_RATE", default=10.0)
# Texts a sandbox sender may send in one second beyond its rate before it answers 20429.
SANDBOX_SENDER_BURST = env.int("SANDBOX_SENDER_BURST", default=5)
# AI agents (phones.models.Agent). Calls to an agent's number stream to our gateway (/media/stream);
# an org with this many AI calls already connecting or active sends the next caller to the number's
# fallback (voicemail or the system phone) instead.
AI_MAX_CONCURRENT_CALLS = env.int("AI_MAX_CONCURRENT_CALLS", default=10)
# Seconds between a call's answer and its stream's `start` for which the stream token is accepted.
AI_STREAM_TOKEN_TTL = env.int("AI_STREAM_TOKEN_TTL", default=60)
# The model text agents answer texts with through an openai-realtime connection (chat completions).
AI_TEXT_MODEL = env.str("AI_TEXT_MODEL", default="gpt-4.1-mini")
# How many recent messages of the conversation a text agent reads before answering.
AI_TEXT_HISTORY = env.int("AI_TEXT_HISTORY", default=20)
# The media gateway (webhooks.media_stream, phones.agents.gateway): a sandbox-ai agent's realtime
# session goes to the sandbox's emulator, by default this server's own /sandbox/ai/v1; the emulator
# speaks in real time × SANDBOX_AI_PACE (tests speed it up).
SANDBOX_AI_BASE_URL = env.str("SANDBOX_AI_BASE_URL", default="")
SANDBOX_AI_PACE = env.float("SANDBOX_AI_PACE", default=1.0)
