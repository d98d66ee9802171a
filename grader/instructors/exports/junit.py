"""JUnit XML: one ``<testcase>`` per rubric criterion, for CI dashboards and LMS plug-ins.

A passed criterion is a plain test case; a failed one carries ``<failure>`` with the rubric's
advice as the message and the observed detail and check outcomes as the body; a criterion that
could not be checked (``not_run``, ``official_only``) is ``<skipped>``; a submission that could
not be graded at all adds ``<error>`` to each case with the grader's message, and then counts
every case as an error and none as failed or skipped (each case is counted once, as JUnit
readers expect). Scores, an override and the rubric identity are ``<properties>`` of the suite.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from grader.instructors.exports.text import xml_safe


def to_junit(result: dict[str, Any], *, suite_name: str | None = None) -> str:
    """The JUnit XML document (UTF-8 text with an XML declaration) for ``result``."""
    lab = result["lab"]
    criteria = result["criteria"]
    graded = result["status"] == "graded"
    failures = sum(c["status"] == "failed" for c in criteria) if graded else 0
    undecided = ("not_run", "official_only", "awaiting_instructor")
    skipped = sum(c["status"] in undecided for c in criteria) if graded else 0
    errors = 0 if graded else len(criteria)
    seconds = float(result["timings"].get("total", 0.0))
    name = suite_name or f"{lab['id']}: {lab['title']}"
    suites = ET.Element(
        "testsuites",
        name=xml_safe(lab["id"]),
        tests=str(len(criteria)),
        failures=str(failures),
        errors=str(errors),
        time=f"{seconds:.3f}",
    )
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=xml_safe(name),
        tests=str(len(criteria)),
        failures=str(failures),
        errors=str(errors),
        skipped=str(skipped),
        time=f"{seconds:.3f}",
        timestamp=result["started_at"],
    )
    properties = ET.SubElement(suite, "properties")
    score = result["score"]
    for key, value in (
        ("score", f"{score['points']}/{score['max_points']}"),
        ("status", result["status"]),
        ("rubric_version", lab["rubric_version"]),
        ("rubric_digest", lab["rubric_digest"]),
        ("submission_digest", result["submission"]["digest"] or ""),
        ("grader_version", result["grader"]["version"]),
    ):
        ET.SubElement(properties, "property", name=key, value=xml_safe(value))
    override = result.get("override")
    if override:
        for key, value in (
            ("override_graded_points", str(override["graded_points"])),
            ("override_reason", override["reason"]),
            ("override_by", override["by"] or ""),
        ):
            ET.SubElement(properties, "property", name=key, value=xml_safe(value))
    for c in criteria:
        duration = sum(t["duration"] for t in c["tests"])
        case = ET.SubElement(
            suite,
            "testcase",
            classname=xml_safe(f"{lab['id']}.{c['id']}"),
            name=xml_safe(c["title"]),
            time=f"{duration:.3f}",
        )
        if result["status"] != "graded":
            error = ET.SubElement(case, "error", message=xml_safe(result["message"] or ""))
            error.text = xml_safe(result["message"] or "")
        elif c["status"] == "failed":
            failure = ET.SubElement(case, "failure", message=xml_safe(c["feedback"] or ""))
            lines = [f"observed: {c['detail']}"] if c["detail"] else []
            if c.get("review"):
                lines.append(f"scored by {c['review']['by']}: {c['review']['reason']}")
            lines += [f"{t['outcome']}: {t['id']}" for t in c["tests"]]
            failure.text = xml_safe("\n".join(lines))
        elif c["status"] in undecided:
            reason = {
                "official_only": "decided by the official grading",
                "awaiting_instructor": "awaiting the instructor (manual criterion)",
            }.get(c["status"], "not checked")
            ET.SubElement(case, "skipped", message=reason)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"
