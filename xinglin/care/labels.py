"""Display names for code names (English msgids; the Chinese catalogue gives the form's words)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

CONSTITUTION_LABELS = {
    "balanced": _("Balanced"),
    "qi_deficiency": _("Qi deficiency"),
    "yang_deficiency": _("Yang deficiency"),
    "yin_deficiency": _("Yin deficiency"),
    "phlegm_dampness": _("Phlegm-dampness"),
    "damp_heat": _("Damp-heat"),
    "blood_stasis": _("Blood stasis"),
    "qi_stagnation": _("Qi stagnation"),
    "special_diathesis": _("Special diathesis"),
}
RESULT_LABELS = {
    "yes": _("Yes"),
    "leaning": _("Leaning"),
    "basically": _("Basically"),
    "no": _("No"),
}
FLAG_LABELS = {
    "main_type_tie": _("Tie for the main constitution: a TCM physician decides."),
    "yin_yang_both_positive": _(
        "Yin and yang deficiency both positive: go over the answers again and re-collect."
    ),
    "no_type": _("No constitution is positive: go over the answers, or re-collect in 2 weeks."),
}
