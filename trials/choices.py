from django.db import models
from django.utils.translation import gettext_lazy as _


class Language(models.TextChoices):
    ZH = "zh", _("Chinese")
    EN = "en", _("English")
    JA = "ja", _("Japanese")
    KO = "ko", _("Korean")
    RU = "ru", _("Russian")
    FR = "fr", _("French")
    DE = "de", _("German")
    ES = "es", _("Spanish")
    PT = "pt", _("Portuguese")
    AR = "ar", _("Arabic")
    VI = "vi", _("Vietnamese")
    TH = "th", _("Thai")
    MS = "ms", _("Malay")
    ID = "id", _("Indonesian")
    MN = "mn", _("Mongolian")
    KK = "kk", _("Kazakh")
    UR = "ur", _("Urdu")
    HI = "hi", _("Hindi")
    OTHER = "other", _("Other")
