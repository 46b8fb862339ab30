from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

validate_nct_id = RegexValidator(
    r"^NCT\d{8}\Z",
    _("Enter a ClinicalTrials.gov identifier: NCT followed by 8 digits, e.g. NCT04361331."),
    code="invalid_nct",
)
validate_chictr_id = RegexValidator(
    r"^(ChiCTR-[A-Z]{2,5}-\d{8}|ChiCTR\d{10})\Z",
    _(
        "Enter a ChiCTR identifier: ChiCTR followed by 10 digits (e.g. ChiCTR2400081234) "
        "or the older form ChiCTR-ABC-12345678."
    ),
    code="invalid_chictr",
)
validate_code = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,19}\Z",
    _("Use 1-20 upper-case letters, digits or hyphens, starting with a letter or digit."),
    code="invalid_code",
)
