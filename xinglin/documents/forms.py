from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinglin.documents.actions import editable_sections
from xinglin.documents.content import DOCUMENT_NUMBER, NARRATIVE_SECTIONS


class NarrativeForm(forms.Form):
    """One textarea per editable section of a report kind (and the document number line)."""

    def __init__(self, kind: str, *args, **kwargs):
        super().__init__(*args, **kwargs)
        headings = dict(NARRATIVE_SECTIONS[kind])
        for key in editable_sections(kind):
            if key == DOCUMENT_NUMBER:
                self.fields[key] = forms.CharField(label=_("Document number"), required=False,
                                                   max_length=100)  # fmt: skip
            else:
                self.fields[key] = forms.CharField(
                    label=headings[key], required=False, max_length=20000,
                    widget=forms.Textarea(attrs={"rows": 5}),
                )  # fmt: skip


class TypicalCaseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    body = forms.CharField(
        label=_("Text"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8})
    )
