"""Settings, read from the environment (see README "Configuration").

Unset ``DATABASE_URL`` means SQLite in ``var/``; unset ``REDIS_URL`` means Celery tasks
run eagerly and the cache is local memory, so a fresh clone needs no services.
Outside DEBUG, every secret must come from the environment.
"""

import datetime
import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Under pytest the development defaults for secrets apply, as in DEBUG.
TESTING = env.bool("TESTING", default="pytest" in sys.modules)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"  # noqa: S105
_DEV_FIELD_KEY = "dev-only-field-encryption-key"
SECRET_KEY = env.str("SECRET_KEY", default="")
FIELD_ENCRYPTION_KEY = env.str("FIELD_ENCRYPTION_KEY", default="")
if not SECRET_KEY or not FIELD_ENCRYPTION_KEY:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "SECRET_KEY and FIELD_ENCRYPTION_KEY must be set when DEBUG is off "
            "(see README, Configuration)."
        )
    SECRET_KEY = SECRET_KEY or _DEV_SECRET
    FIELD_ENCRYPTION_KEY = FIELD_ENCRYPTION_KEY or _DEV_FIELD_KEY
SECRET_KEY_FALLBACKS = env.list("SECRET_KEY_FALLBACKS", default=[])
# django-fernet-encrypted-fields derives its Fernet keys from SECRET_KEY (+ fallbacks)
# and SALT_KEY; list older field keys after the current one to rotate.
SALT_KEY = [FIELD_ENCRYPTION_KEY, *env.list("FIELD_ENCRYPTION_KEY_FALLBACKS", default=[])]

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG or TESTING else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # modeltranslation must come before the admin (it patches admin forms).
    "modeltranslation",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_countries",
    "simple_history",
    "access",
    "audit",
    "trials",
    "sites.apps.SitesConfig",
    "patients",
    "notifications",
    "api",
    "exports",
    "axes",
    "csp",
    # TOTP devices for the optional second factor of e-signatures (monitoring/second_factor.py)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "monitoring",
    "clinical",
    "analysis",  # trial statistics, data cuts, dashboard (no models)
    "registry",
    "recruiting",
    "research",
    "demo",  # manage.py seed_demo (no models)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a login unless marked @login_not_required (login, health, API).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "audit.middleware.AuditContextMiddleware",
    "sites.middleware.SiteTimezoneMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.NoStoreMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sites.context_processors.roles",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"].setdefault("ATOMIC_REQUESTS", False)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The embedded default lives in var/ (git-ignored); a fresh clone has no such folder.
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Connection errors are cache misses: pages work while Redis is down.
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="hbtrials"),
            "TIMEOUT": 3600,
        },
        # API rate limits: Redis, or a process-local memory cache while Redis is down.
        "throttle": {
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1, "LOCAL_FALLBACK": True},
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="hbtrials") + "-throttle",
            "TIMEOUT": 3600,
        },
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "throttle": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "throttle",
        },
    }
if TESTING and REDIS_URL and env.str("PYTEST_XDIST_WORKER", default=""):
    # pytest-xdist: each worker has its own test database, so its own cache keys too
    for _alias in CACHES.values():
        _alias["KEY_PREFIX"] += "-" + env.str("PYTEST_XDIST_WORKER")

AUTHENTICATION_BACKENDS = [
    # First: refuses any password check (login, admin, unblinding) while locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "audit.passwords.NoUsernameInPasswordValidator"},
    {
        # 12 characters for everyone: every account of the app is staff of a trial.
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one
# account from one address, that account is locked for that address for
# AXES_COOLOFF_MINUTES. Attempts live in the database (shared by every process).
# Electronic signatures: when on, signing roles also enter a TOTP code from an
# authenticator app enrolled on /monitoring/second-factor/ (django-otp). Off by default.
SIGNATURE_SECOND_FACTOR = env.bool("SIGNATURE_SECOND_FACTOR", default=False)
OTP_TOTP_ISSUER = "HB Trials"
# Only the signer ever sees the secret: the admin lists and removes devices, never shows
# their key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "audit.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "audit.lockout.lockout_response"
AXES_VERBOSE = False
# The project's own access log records logins and failures (audit.signals).
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Public recruiting pages (recruiting/): the staff UI stays in LANGUAGES; the public pages
# may offer more languages for expatriate patients. The language is in the URL
# (/recruiting/<lang>/...), never in a cookie. Each code offered here needs its columns in
# MODELTRANSLATION_LANGUAGES; the UI falls back to English where no catalogue exists.
PUBLIC_LANGUAGE_NAMES = {
    "en": "English",
    "zh-hans": "简体中文",
    "ja": "日本語",
    "ko": "한국어",
    "ru": "Русский",
    "ar": "العربية",
}
RECRUITING_LANGUAGES = env.list("RECRUITING_LANGUAGES", default=["en", "zh-hans"])
# Translated data (django-modeltranslation): one column per language for every public text.
MODELTRANSLATION_LANGUAGES = tuple(PUBLIC_LANGUAGE_NAMES)
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = ("en",)
# Referrals not converted into a registered patient are deleted this many days after
# they were made (beat job recruiting.tasks.purge_referrals).
REFERRAL_RETENTION_DAYS = env.int("REFERRAL_RETENTION_DAYS", default=90)
# Public form posts allowed per client address per minute (Django cache; no Redis needed).
RECRUITING_RATE_LIMIT_PER_MINUTE = env.int("RECRUITING_RATE_LIMIT_PER_MINUTE", default=5)
USE_I18N = True
USE_TZ = True
# Stored in UTC; shown in the user's site time zone (sites.middleware).
TIME_ZONE = env.str("TIME_ZONE", default="Asia/Shanghai")

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Access-log months older than this are copied to ACCESS_LOG_ARCHIVE_DIR (gzip + SHA-256)
# by the daily archive job; the rows stay (deleting them is a maintenance-role task).
ACCESS_LOG_ARCHIVE_AFTER_DAYS = env.int("ACCESS_LOG_ARCHIVE_AFTER_DAYS", default=365)
ACCESS_LOG_ARCHIVE_DIR = env.path("ACCESS_LOG_ARCHIVE_DIR", default=VAR_DIR / "archive")
# Data exports (MEDIA_ROOT/exports/) are deleted this many hours after they are ready.
EXPORT_TTL_HOURS = env.int("EXPORT_TTL_HOURS", default=72)

# Email: console in development, SMTP from the environment in production.
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
# For EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend (one file per mail).
EMAIL_FILE_PATH = env.str("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
# Seconds: a hung mail server must not hang a worker.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="trials@localhost")
# Where the app is served, for links in notification emails (e.g. https://trials.example.org).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A notification left "sending" this long (worker lost mid-delivery) is sent again, with
# the same Message-ID (notifications/models.py). Longer than EMAIL_TIMEOUT.
OUTBOX_SENDING_TIMEOUT_SECONDS = env.int("OUTBOX_SENDING_TIMEOUT_SECONDS", default=600)
# Sent (or finally failed) notifications are deleted after this many days (purge-outbox).
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)

# Celery: eager without a broker, so the embedded default runs with no Redis.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must not hang a request when the broker is down: fail fast, the outbox
# keeps the notification and the periodic flush delivers it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# The queue tasks go to (and ``make worker`` consumes); CI's worker tests use their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE: dict = {
    # 06:00 Asia/Shanghai (UTC+8, no daylight saving) = 22:00 UTC; each site's "today"
    # is its own calendar day (patients/sweeps.py).
    "daily-sweep": {
        "task": "patients.tasks.daily_sweep",
        "schedule": crontab(hour=22, minute=0),
    },
    "sae-escalate": {"task": "patients.tasks.sae_escalate", "schedule": 900.0},
    "flush-outbox": {"task": "notifications.tasks.flush_outbox", "schedule": 60.0},
    "expire-exports": {"task": "exports.tasks.expire_exports", "schedule": 3600.0},
    "expire-research-extracts": {"task": "research.tasks.expire_extracts", "schedule": 3600.0},
    # Retention (audit/retention.py): 03:00 and 03:30 Asia/Shanghai.
    "clear-expired-sessions": {
        "task": "audit.tasks.clear_expired_sessions",
        "schedule": crontab(hour=19, minute=0),
    },
    "archive-access-log": {
        "task": "audit.tasks.archive_access_log",
        "schedule": crontab(hour=19, minute=30),
    },
    # 03:45 Asia/Shanghai: sent notifications past OUTBOX_RETENTION_DAYS.
    "purge-outbox": {
        "task": "notifications.tasks.purge_outbox",
        "schedule": crontab(hour=19, minute=45),
    },
    "purge-idempotency": {"task": "api.tasks.purge_idempotency_records", "schedule": 3600.0},
    # 06:30 Asia/Shanghai: visits whose window just closed with required forms missing
    # raise the missing-forms edit check's query (monitoring/visit_forms.py)
    "missing-forms-checks": {
        "task": "monitoring.tasks.missing_forms_sweep",
        "schedule": crontab(hour=22, minute=30),
    },
    # 07:00 Asia/Shanghai = 23:00 UTC, after the visit sweep
    "query-digest": {
        "task": "monitoring.tasks.query_digest",
        "schedule": crontab(hour=23, minute=0),
    },
    "purge-referrals": {"task": "recruiting.tasks.purge_referrals", "schedule": 3600.0},
    # 04:00 Asia/Shanghai: rebuild the research search table (research/facts.py) if any
    # registry write came after it (queries queue it too when they find it stale)
    "refresh-registry-facts": {
        "task": "research.tasks.refresh_registry_facts",
        "schedule": crontab(hour=20, minute=0),
    },
}
# How long a POST's Idempotency-Key is remembered (its encrypted response replayed).
IDEMPOTENCY_TTL_HOURS = env.int("IDEMPOTENCY_TTL_HOURS", default=24)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": [
        "api.filters.ApiFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "api.base.Pagination",
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "api.base.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "api.throttling.UserThrottle",
        "api.throttling.AnonThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # JSON nested deeper than api.parsers.MAX_JSON_DEPTH is a 400, not a RecursionError.
    "DEFAULT_PARSER_CLASSES": [
        "api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.decimal_patterns_postprocess",
    ],
    "TITLE": "Hepato-biliary trials API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "DESCRIPTION": (
        "REST API of the hepato-biliary trials system. Authenticate with a personal API token "
        "(`Authorization: Bearer hbt_…`, created under Account → API tokens) or the browser "
        "session. Another site's record answers 404. Invalid input answers 400 with one list "
        "of messages per field and writes nothing. Edits of saved data need `reason`. POST "
        "workflows accept an `Idempotency-Key` header. Requests are throttled per user "
        "(429 with `Retry-After`)."
    ),
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "CountryEnum": "django_countries.countries",
        "SignatureLevelEnum": "monitoring.models.review.Signature.Level",
        "LockLevelEnum": "monitoring.models.locks.Lock.Level",
        "ExposureKindEnum": "clinical.models.exposure.Exposure.Kind",
        "ProcedureKindEnum": "clinical.models.procedures.Procedure.Kind",
        # registry: one name per shared code list / choice set
        "MorphologyEnum": "registry.codes.morphology_choices",
        "TumourVascularInvasionEnum": "registry.models.clinical.Tumour.VascularInvasion",
        "PathologyInvasionEnum": "registry.models.pathology.PathologyReport.Invasion",
        "RegistryVitalStatusEnum": "registry.models.clinical.FollowUp.VitalStatus",
        "VitalStatusEnum": "patients.models.visits.Visit.VitalStatus",  # the name it had
        "TumourCategoryEnum": "registry.models.clinical.Category",
        "LiradsCategoryEnum": "registry.models.imaging.LiradsObservation.Category",
        "TreatmentKindEnum": "registry.models.clinical.Treatment.Kind",
        "GenomicTestKindEnum": "registry.models.genomics.GenomicTest.Kind",
        "AlterationKindEnum": "registry.models.genomics.ActionabilityRule.Kind",
        "PathologySpecimenEnum": "registry.models.pathology.PathologyReport.Specimen",
        "GenomicSpecimenEnum": "registry.models.genomics.GenomicTest.Specimen",
        "CohortQueryKindEnum": "research.models.CohortQuery.Kind",
        "DataRequestStatusEnum": "research.models.DataRequest.Status",
        "ExtractStatusEnum": "research.models.Extract.Status",
        "ExtractFormatEnum": "research.models.ExtractFormat",
    },
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# Security: strict in production; the README lists the production variables under
# which `manage.py check --deploy --fail-level WARNING` passes.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Reverse proxies in front of the app that append to X-Forwarded-For (audit/middleware.py);
# 0 = use the peer address and ignore the header, which any client can forge.
TRUSTED_PROXY_HOPS = env.int("TRUSTED_PROXY_HOPS", default=0)
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# Content-Security-Policy (django-csp): only the app's own scripts, styles, fonts and
# images; no inline script or style, no eval, no framing, no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Audit: django-simple-history.
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True
SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # django-axes logs every attempt at INFO; failures and lockouts are in the access log.
    "loggers": {"axes": {"level": "WARNING"}},
}

# Registry research (research/): disclosure control of aggregate results.
RESEARCH_SMALL_CELL_THRESHOLD = env.int("RESEARCH_SMALL_CELL_THRESHOLD", default=5)
RESEARCH_REPEAT_LIMIT = env.int("RESEARCH_REPEAT_LIMIT", default=7)  # variants of one query
RESEARCH_REPEAT_WINDOW_DAYS = env.int("RESEARCH_REPEAT_WINDOW_DAYS", default=30)
# Governed research extracts: days the requester may download an approved extract, and
# the secret their pseudonymisation keys derive from (empty: SECRET_KEY; set it so that
# whoever holds the web servers' SECRET_KEY cannot recompute subject ids).
RESEARCH_EXTRACT_DAYS = env.int("RESEARCH_EXTRACT_DAYS", default=7)
RESEARCH_PSEUDONYM_KEY = env.str("RESEARCH_PSEUDONYM_KEY", default="")
