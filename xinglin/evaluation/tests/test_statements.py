"""The engine's statements are SQLGlot trees rendered per cursor, values always bound, and what
an indicator reads is recorded while compiling (not found in its SQL text)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.generator import Generator

from xinglin.evaluation import prepare, statements
from xinglin.evaluation.sql import Reads, compile_indicator
from xinglin.evaluation.statements import DIALECTS, column, eq, mark, render, text
from xinglin.lib import dialects
from xinglin.standards import expressions as ex
from xinglin.standards.loader import PackIndicator, all_packs, read_elements

VENDORS = ("sqlite", "postgresql", "duckdb", "spark")


def _indicator(value: str, over: tuple[str, ...] = ("village_clinic",), **extra) -> PackIndicator:
    return PackIndicator(
        id="t", item=1, section="", name_zh="t", name_en="t", source="test", text="",
        kind="computed", over=over, value=value, expression=ex.parse(value, read_elements()),
        target=ex.parse_target(">= 1"), **extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("value", "reads"),
    [
        ("sum(total_visits)", Reads(aggregates=True)),
        ("sum(tcm_visits) / sum(total_visits)", Reads(aggregates=True, denominator=True)),
        ("count()", Reads(count=True)),
        ("share(has_tcm_hall = 1)", Reads(share=True, denominator=True)),
        ("share(technique_categories >= 6)", Reads(share=True, techniques=True, denominator=True)),
        ("own(residents)", Reads(own=True)),
        ("per_10000(count(), own(residents))", Reads(count=True, own=True, denominator=True)),
    ],
)
def test_what_an_indicator_reads_is_recorded_while_compiling(value, reads):
    compiled = compile_indicator(_indicator(value), read_elements())
    assert compiled.reads == reads
    assert compiled.institutional == reads.institutions
    assert compiled.division_only == reads.own  # own figures are judged at divisions only


def test_count_makes_an_indicator_count_its_institutions():
    """The count of covered institutions is read (what the old text search found as
    `agg.covered`), so results say how many were included and missing."""
    assert compile_indicator(_indicator("count() * 2"), read_elements()).institutional
    assert not compile_indicator(_indicator("own(residents) * 2"), read_elements()).institutional


def test_every_shipped_indicator_renders_for_every_cursor():
    """No construct a dialect cannot write (render raises on one); the texts parse back."""
    levels = read_elements()
    count = 0
    for pack in all_packs().values():
        for indicator in pack.indicators:
            if not indicator.is_computed:
                continue
            compiled = compile_indicator(indicator, levels)
            for vendor in VENDORS:
                sql = compiled.sql(vendor, dict.fromkeys(compiled.elements, 7))
                assert "%s" not in sql  # pack words are literals, elements' ids bound
                sqlglot.parse_one(sql, read=DIALECTS[vendor])
                count += 1
    assert count > 100


@pytest.mark.parametrize("vendor", VENDORS)
def test_values_are_bound_as_format_marks_for_every_cursor(vendor):
    select = exp.select("code").from_("t").where(eq(column(None, "code"), mark()))
    assert render(select, vendor) == "SELECT code FROM t WHERE code = %s"
    units = prepare._units_sql(vendor, *_year())
    assert units.count("%s") == 7  # tree, unit, the day four times, the path
    assert "2024-12-31" in units  # the year's own days are the engine's literals


def test_a_percent_literal_beside_parameters_is_refused():
    """Django's cursors read % in the text as the start of a mark when parameters are bound."""
    select = exp.select("code").from_("t").where(eq(column(None, "code"), mark()))
    select = select.where(exp.Like(this=column(None, "name"), expression=text("%x")))
    with pytest.raises(ValueError, match="literal with %"):
        render(select, "sqlite")


def test_a_literal_is_escaped_not_interpolated():
    statement = exp.select("code").from_("t").where(eq(column(None, "name"), text("O'Brien")))
    assert render(statement, "postgresql").endswith("WHERE name = 'O''Brien'")


def _year() -> tuple[date, date]:
    return date(2024, 1, 1), date(2024, 12, 31)


def test_the_dialects_are_loaded_whole_at_start_and_a_half_built_one_is_refused():
    """SQLGlot registers a dialect's class before its generator is set: a thread that asked
    for it meanwhile got the generic generator, and one worker sent PostgreSQL `DOUBLE`
    (W7). Django's start loads them (lib/dialects.py); the engine refuses a generic one."""
    for name in dialects.USED:
        assert Dialect.get_or_raise(name).generator_class is not Generator, name
    create = "CREATE TABLE t (v DOUBLE PRECISION)"
    assert "DOUBLE PRECISION" in render(sqlglot.parse_one(create, read="postgres"), "postgresql")

    class Halfbuilt(Dialect):  # a dialect whose own generator is not (yet) set
        pass

    assert Dialect.get_or_raise("halfbuilt").generator_class is Generator
    with pytest.raises(ValueError, match="not set up"):
        statements._generator("halfbuilt")
