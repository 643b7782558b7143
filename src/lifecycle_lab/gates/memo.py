"""The decision memo, rendered to markdown from the gate's result."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from lifecycle_lab.gates.decision import GateResult, row_evidence_text


def render_memo(result: GateResult, *, title: str | None = None, context: str = "",
                memo: Mapping[str, Any] | None = None, follow_ups: Sequence[str] = ()) -> str:
    """The decision memo as markdown: decision, criteria table with evidence, blockers, conditions,
    checklist, owners, communication plan, follow-ups and (optionally) the reviewer's own memo fields.

    Why: the memo is the record a launch review signs; it must carry the evidence, not only the verdict.
    """
    crit = result.criteria
    lines = [f"# {title or (crit.name if crit else 'Graduation gate')}: {result.decision}", ""]
    if context:
        lines += [context, ""]
    lines += ["## Criteria and evidence", "",
              "| group | metric | rule | evidence | status | severity | why |",
              "|---|---|---|---|---|---|---|"]
    for r in result.rows:
        lines.append(f"| {r['group']} | {r['metric']} | {r['rule']} | {row_evidence_text(r)} | {r['status']} | "
                     f"{r['severity']} | {r['why']} |")
    lines += ["", "## Blockers", ""] + ([f"- {b}" for b in result.blockers] or ["- none"])
    lines += ["", "## Conditions", ""] + ([f"- {c}" for c in result.conditions] or ["- none"])
    lines += ["", "## Launch checklist", ""]
    lines += [f"- [{'x' if i.done else ' '}] {i.item}: {i.evidence}" for i in result.checklist] or ["- (none)"]
    if crit and crit.owners:
        lines += ["", "## Owners", ""] + [f"- {role}: {name}" for role, name in crit.owners.items()]
    if crit and crit.communication:
        c = crit.communication
        lines += ["", "## Communication", "",
                  f"- channel: {c.get('channel', 'n/a')}; notify: {', '.join(c.get('notify', [])) or 'n/a'}; "
                  f"when: {c.get('when', 'n/a')}"]
    if follow_ups:
        lines += ["", "## Follow-ups", ""] + [f"- {f}" for f in follow_ups]
    if memo:
        lines += ["", "## Reviewer's memo", ""]
        for key, value in memo.items():
            shown = ", ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
            lines.append(f"- **{key}**: {shown}")
    return "\n".join(lines) + "\n"
