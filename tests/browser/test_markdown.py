"""The page's Markdown renderer: what it renders, and that nothing in an answer can run."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import OpenPage

RENDER = """async (source) => {
  const { renderMarkdown } = await import('/markdown.js');
  const box = document.createElement('div');
  box.id = 'md-under-test';
  box.append(renderMarkdown(source));
  document.body.append(box);
  await new Promise((resolve) => setTimeout(resolve, 150));
  return box.innerHTML;
}"""


@pytest.fixture
def page(new_page: OpenPage) -> Page:
    page = new_page()
    page.get_by_label("Email").first.wait_for()
    return page


def render(page: Page, source: str) -> str:
    page.evaluate("document.getElementById('md-under-test')?.remove()")
    return str(page.evaluate(RENDER, source))


def test_the_answer_markdown_renders_as_html(page: Page) -> None:
    html = render(
        page,
        "Over 30.0 days you spent **$12,345.67** on 1,000 requests.\n\n"
        "You can save about **$1,234.56 a month**:\n"
        "1. **Route small calls** — $900.00/month (high confidence). Use `gpt-4o-mini`.\n"
        "2. _Cache_ responses\n\n"
        "| model | spend |\n|---|---:|\n| gpt-4o | $1.00 |\n\n"
        "## Next\n\n- a\n  - nested\n- b\n\n> quoted\n\n```\ncode <b>\n```\n",
    )
    assert "<strong>$12,345.67</strong>" in html
    assert "<ol><li><strong>Route small calls</strong> — $900.00/month" in html
    assert "<code>gpt-4o-mini</code>" in html
    assert "<em>Cache</em>" in html
    assert '<td class="align-right">$1.00</td>' in html
    assert "<h2>Next</h2>" in html
    assert "<ul><li>a<ul><li>nested</li></ul></li><li>b</li></ul>" in html
    assert "<blockquote><p>quoted</p></blockquote>" in html
    assert "<pre><code>code &lt;b&gt;</code></pre>" in html


def test_snake_case_names_are_not_emphasis(page: Page) -> None:
    html = render(page, "kinds model_routing and prompt_caching, *really*")
    assert "model_routing and prompt_caching" in html
    assert "<em>really</em>" in html


def test_html_and_scripts_in_an_answer_show_as_text_and_never_run(page: Page) -> None:
    page.evaluate("window.__pwned = 0")
    attacks = [
        "<script>window.__pwned++</script>",
        '<img src=x onerror="window.__pwned++">',
        "<svg onload=window.__pwned++></svg>",
        '<a href="javascript:window.__pwned++">a</a>',
        "[click me](javascript:window.__pwned++)",
        "[data](data:text/html,<script>window.__pwned++</script>)",
        "![x](javascript:window.__pwned++)",
        "<iframe src=javascript:window.__pwned++>",
        "**<b onmouseover=window.__pwned++>bold</b>**",
        "| <img src=x onerror=window.__pwned++> |\n|---|\n| `<script>` |",
    ]
    html = render(page, "\n\n".join(attacks))
    dangerous = page.evaluate(
        """[...document.querySelectorAll('#md-under-test *')]
            .filter(el => ['SCRIPT', 'IMG', 'SVG', 'IFRAME', 'B', 'A']
                            .includes(el.tagName.toUpperCase())
                          && !(el.tagName === 'A' && el.href.startsWith('http'))
                       || [...el.attributes].some(a => a.name.startsWith('on')))
            .map(el => el.outerHTML)"""
    )
    assert dangerous == []
    assert "javascript:" not in page.evaluate(
        "[...document.querySelectorAll('#md-under-test a')].map(a => a.href).join(' ')"
    )
    assert "&lt;script&gt;window.__pwned++&lt;/script&gt;" in html  # shown as text
    page.hover("#md-under-test")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") == 0


def test_links_keep_safe_addresses_only(page: Page) -> None:
    render(page, "[docs](https://example.com/a) [here](#/threads/x) <https://example.org>")
    links = page.evaluate(
        "[...document.querySelectorAll('#md-under-test a')].map(a => [a.href, a.rel, a.target])"
    )
    assert links[0] == ["https://example.com/a", "noopener noreferrer nofollow", "_blank"]
    assert links[1][0].endswith("/#/threads/x") and links[1][2] == ""
    assert links[2][0] == "https://example.org/"
