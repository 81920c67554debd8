"""The key evaluation (重点评价, DESIGN.md §6 stage 4, second half) by a granted third-party evaluator:
`framework` (the Ministry's 决策/过程/产出/效益 items, the rules, the total, the comparison with the
self-evaluation — pure), `models`, `schemas`, `service` (reading, the evaluator's draft and submit;
no Flask), `decision` (the bureau admin's accept / return / skip, and `accepted_grade` for the
result application), `api`, `views` (+ the templates `evaluation/key_*.html`), `stage` (its
StagePlugin, listed in `evaluation/stage.py`). It lives beside the self-evaluation in
`services/evaluation` (one capability: 绩效评价)."""
