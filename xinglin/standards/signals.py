"""What the standards app announces to the floors above it (it imports none of them).

`pack_adopted(orgunit, pack_code)`: a unit now follows a document and wants its plan loaded
(sent inside the adoption's transaction; plans/apps.py loads the plan of the same code)."""

from __future__ import annotations

from django.dispatch import Signal

pack_adopted = Signal()
