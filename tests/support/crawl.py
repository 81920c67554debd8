"""A bounded crawl of the pages a signed-in user can reach, and what a newcomer reads on each page.

`crawl` follows same-site links (GET only) breadth-first from the given seeds, at most `limit`
distinct path patterns (ids normalised: /projects/5 and /projects/7 are one pattern), and calls
`check(page, path)` on every page it opens; pages answered with an error status are reported.

`PAGE_FACTS` (run with page.evaluate) returns what the checks look at: the visible text without
code samples, the names shown for people, overdue marks, enabled write controls and links to
create/edit/import pages. `vocabulary_problems` reads the text for API codes and English words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# --- which links the crawl follows ---------------------------------------------------------------

SKIP = re.compile(
    r"^/(api|static|oauth|healthz|readyz|logout)(/|$)"  # machine endpoints, assets, leaving
    r"|/download(/|$)|/inline$|/preview$|/export(/|$)"  # files, not pages
    r"|\.(xlsx|xls|docx|pdf|csv|zip|png|jpe?g|svg|json)$",
    re.IGNORECASE,
)
NUMBER = re.compile(r"/\d+(?=/|$)")


def pattern(path: str, query: str = "") -> str:
    """/projects/7/targets?tab=x&page=2 → /projects/{id}/targets?page&tab (ids and values dropped)."""
    keys = sorted({k for k, _ in parse_qsl(query, keep_blank_values=True)})
    return NUMBER.sub("/{id}", path) + ("?" + "&".join(keys) if keys else "")


def crawlable(url: str, origin: str) -> str | None:
    """The same-site path (with its query) a crawl may GET, or None."""
    parts = urlsplit(url)
    if f"{parts.scheme}://{parts.netloc}" != origin or SKIP.search(parts.path):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


LINKS = """() => Array.from(document.querySelectorAll('a[href]'))
  .filter(a => !a.hasAttribute('download') && !a.closest('[hx-post],[hx-put],[hx-patch],[hx-delete]'))
  .map(a => a.href)"""


def crawl(
    page: Any,
    origin: str,
    seeds: Iterable[str],
    check: Callable[[Any, str], None],
    *,
    limit: int = 40,
) -> list[str]:
    """Visit the seeds and up to `limit` path patterns found by following links; return the linked
    pages that did not open (their status). A seed that does not open (e.g. a stage page before its
    stage: 409) is skipped, not reported; a seed does not use up its pattern."""
    queue = [(seed, True) for seed in seeds]
    seen: set[str] = set()  # patterns of the linked pages
    opened: set[str] = set()  # every path, seeds included
    problems: list[str] = []
    page.expected_document_statuses.update({403, 404, 409, 410, 500})  # reported below instead
    while queue and len(seen) < limit:
        path, seed = queue.pop(0)
        parts = urlsplit(path)
        key = pattern(parts.path, parts.query)
        if key in seen or path in opened:
            continue
        opened.add(path)
        if not seed:  # a seed is a page of its own (e.g. a new project beside the demo's finished one)
            seen.add(key)
        response = page.goto(origin + path)
        page.wait_for_load_state("load")
        status = response.status if response is not None else 0
        if status != 200:
            if not seed:
                problems.append(f"a link to {path} answered {status}")
            continue
        here = urlsplit(page.url)
        check(page, here.path + (f"?{here.query}" if here.query else ""))
        for url in page.evaluate(LINKS):
            found = crawlable(url, origin)
            if found is not None:
                queue.append((found, False))
    return problems


# --- what a page shows ---------------------------------------------------------------------------

PAGE_FACTS = """() => {
  const hidden = [];
  // code samples and the header's "who am I" (display name with the login, by design) are not read
  for (const el of document.querySelectorAll('code, pre, .font-monospace, [data-testid="who"]')) {
    hidden.push([el, el.style.display]);
    el.style.display = 'none';
  }
  const text = document.body.innerText;
  for (const [el, display] of hidden) el.style.display = display;
  const visible = el => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const describe = el => {
    const name = el.tagName.toLowerCase();
    const bits = [name];
    for (const a of ['type', 'name', 'data-testid', 'value']) {
      if (el.getAttribute(a)) bits.push(a + '=' + el.getAttribute(a));
    }
    const label = (el.innerText || el.getAttribute('aria-label') || el.getAttribute('title') || '')
      .replace(/\\s+/g, ' ').trim();
    if (label) bits.push('"' + label.slice(0, 40) + '"');
    if (el.form) bits.push('in form ' + new URL(el.form.action, location.href).pathname);
    if (!visible(el)) bits.push('(not visible)');
    return '<' + bits.join(' ') + '>';
  };
  const personal = /^\\/(switch-tenant|logout|notifications\\/.*)$/;
  const writes = [];
  for (const form of document.forms) {
    if (form.method !== 'post') continue;
    if (personal.test(new URL(form.action, location.href).pathname)) continue;
    for (const el of form.elements) {
      if (el.type === 'hidden' || el.tagName === 'FIELDSET' || el.tagName === 'OUTPUT') continue;
      if (el.disabled || el.readOnly) continue;
      writes.push(describe(el));
    }
  }
  const htmxWrite = '[hx-post],[hx-put],[hx-patch],[hx-delete]';
  for (const el of document.querySelectorAll(htmxWrite)) {
    const path = new URL(el.getAttribute('hx-post') || el.getAttribute('hx-put') || el.getAttribute('hx-patch')
      || el.getAttribute('hx-delete'), location.href).pathname;
    if (personal.test(path) || el.disabled || (el.form && el.form.method === 'post')) continue;
    writes.push(describe(el) + ' ' + path);
  }
  const createLinks = Array.from(document.querySelectorAll('a[href]'))
    .filter(a => visible(a) && /\\/(new|edit|import)$/.test(new URL(a.href).pathname))
    .map(a => new URL(a.href).pathname + ' "' + a.innerText.trim() + '"');
  const options = Array.from(document.querySelectorAll('select'))
    .filter(visible).flatMap(s => Array.from(s.options).map(o => o.text));
  const placeholders = Array.from(document.querySelectorAll('[placeholder]'))
    .filter(visible).map(el => el.getAttribute('placeholder'));
  const persons = Array.from(document.querySelectorAll('.jx-person'))
    .map(el => [el.innerText.trim(), el.getAttribute('title') || '']);
  return {text, options, placeholders, persons, writes, createLinks};
}"""

OVERDUE = """(root) => {  // run with locator.evaluate: the row or <main>, legends aside
  const found = [];
  for (const el of root.querySelectorAll('.jx-badge-overdue, .jx-dot-overdue')) {
    if (!el.closest('.jx-legend')) found.push(el.outerHTML.slice(0, 160));
  }
  const legends = Array.from(root.querySelectorAll('.jx-legend'));
  legends.forEach(el => { el.dataset.jxDisplay = el.style.display; el.style.display = 'none'; });
  const text = root.innerText;
  legends.forEach(el => { el.style.display = el.dataset.jxDisplay; });
  for (const line of text.split('\\n')) if (line.includes('逾期')) found.push('text: ' + line.trim());
  return found;
}"""

# --- what a newcomer must not read -------------------------------------------------------------


# API.md "Fixed vocabularies" and the codes of the services' models (statuses, kinds, decisions…).
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


VOCABULARY = _words(
    """assessment targets monitoring self_evaluation evaluation result_application
    quantitative qualitative common individual project department range
    necessity economy target_reasonableness plan_effectiveness funding_compliance fiscal_affordability
    read joint_review key_evaluation evidence_read evidence_write
    achieved partly not_achieved prioritise improve reduce cancel green yellow red
    support partial reject approve return accept decline pass rectify outcome
    locked draft submitted returned approved closed superseded active retired pending accepted declined
    first finance fill revise review decide done task decided reminder email sending sent failed
    province city county system
    province_admin province_reviewer bureau_admin dept_reviewer project_editor evaluator"""
)
LOGIN = re.compile(r"\b(?:(?:nx|yc|xq|xx)\.(?:admin|reviewer|dept|editor)|eval\.ningping)\b")
# A login shown as an account's login beside its name, 显示名（xq.editor） or 登录名 xq.editor, is fine.
LOGIN_AS_LOGIN = re.compile(rf"（{LOGIN.pattern}）|登录名\s*{LOGIN.pattern}")

# What Chinese government software legitimately shows in Latin letters.
ALLOWED = _words(
    """Excel Word PDF DOCX XLSX API ID SHA SHA-256 SHA256 OAuth MiB KiB KB MB GB
    pdf doc docx xls xlsx jpg jpeg png zip csv txt
    km kg kWh m m2 m3 t h
    Z MAD
    PKCE S256 https jixiao jixiao-cli svc"""
)
# The library's search box teaches its pinyin search by example (placeholder only).
PINYIN_EXAMPLES = frozenset({"peixun", "px"})
RULE_CODE = re.compile(r"^[A-Z]{1,2}\d{2,3}$")  # E01, T08, R03: a small secondary tag
SCRUB = re.compile(
    r"https?://\S+"  # addresses
    r"|\S+@\S+\.\w+"  # e-mail addresses
    r"|[^\s/（）()「」“”，、:：]+\.(?:xlsx|xls|docx|doc|pdf|csv|zip|png|jpe?g|txt|svg|json)\b"  # file names
    r"|\b[0-9a-f]{8,}(?:-[0-9a-f]{4,})*\b"  # hashes, request ids
    r"|(?<![\w-])\d{6}-[A-Z]{2,}-\d+(?!\d)"  # indicator codes: 640000-CC-0001
    r"|(?<![\w.])/[\w/.{}\-?=&%]+",  # paths
    re.IGNORECASE,
)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:[.\-][A-Za-z0-9_]+)*")
LOGIN_SHAPED = re.compile(r"[a-z][a-z0-9_-]*(?:\.[a-z0-9_-]+)+")  # xq.zhangsan: a login name's form


def vocabulary_problems(
    text: str, *, logins_allowed: bool = False, allowed: frozenset[str] = frozenset()
) -> list[str]:
    """Each API code, login name or English word in `text`, with the line it is in."""
    found: list[str] = []
    for line in text.splitlines():
        scrubbed = SCRUB.sub(" ", LOGIN_AS_LOGIN.sub(" ", line))
        for word in WORD.findall(scrubbed):
            if not re.search("[A-Za-z]", word) or (logins_allowed and LOGIN_SHAPED.fullmatch(word)):
                continue  # a lone "_" (the login rule lists its characters); logins where they belong
            if LOGIN.fullmatch(word):
                problem = None if logins_allowed else "login name"
            elif word.lower() in VOCABULARY or "_" in word:
                problem = "API code"
            elif word in ALLOWED or word in allowed or RULE_CODE.match(word):
                problem = None
            else:
                problem = "English"
            if problem:
                found.append(f"{problem} {word!r} in {line.strip()[:120]!r}")
    return found


def person_problems(persons: list[list[str]]) -> list[str]:
    """A `.jx-person` showing a login name or a code instead of the display name."""
    return [
        f"person shown as {shown!r} (title {title!r})"
        for shown, title in persons
        if not shown or LOGIN.search(shown) or re.fullmatch(r"[A-Za-z0-9_.\-]+", shown)
    ]
