from __future__ import annotations

import getpass

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from xinglin.network.actions import NetworkError, create_user
from xinglin.network.models import OrgUnit, Role


class Command(BaseCommand):
    help = "Create a user (or reset one) with a role over an org unit."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--orgunit", required=True, help="org-unit code of the scope")
        parser.add_argument("--department", default="", help="department code (liaisons)")
        parser.add_argument("--name", default="", help="full name")
        parser.add_argument("--password", help="default: asked for on the terminal")

    def handle(self, *args, username, role, orgunit, department, name, password, **options):
        unit = OrgUnit.objects.filter(code=orgunit).first()
        if unit is None:
            raise CommandError(f"no org unit has the code {orgunit}")
        password = password or getpass.getpass("Password: ")
        try:
            # the same rules as the web pages (AUTH_PASSWORD_VALIDATORS; issue 20.4)
            validate_password(password, User(username=username, first_name=name))
        except ValidationError as error:
            raise CommandError("password refused: " + " ".join(error.messages)) from error
        try:
            create_user(
                username, password, role=role, orgunit=unit, department=department, full_name=name
            )
        except NetworkError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{username}: {role} over {unit.name} ({unit.code})")
