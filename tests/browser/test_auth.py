"""Signing up, in and out in the page: clear errors, a reload stays signed in."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import OpenPage, fresh_email, sign_in, sign_up
from tests.support import PASSWORD


def test_the_page_renders_its_sign_in_form_in_under_a_second(new_page: OpenPage) -> None:
    new_page().get_by_label("Email").first.wait_for()  # a running server, a running browser
    page = new_page(path="about:blank")  # a fresh context: nothing cached
    page.goto("/")
    page.get_by_label("Email").first.wait_for(state="visible")
    visible_ms = page.evaluate("performance.now()")  # since this page's navigation started
    paint_ms = page.evaluate(
        "performance.getEntriesByType('paint').find(e => e.name === 'first-contentful-paint')"
        "?.startTime ?? null"
    )
    assert paint_ms is not None and paint_ms < 1000, f"first contentful paint at {paint_ms} ms"
    assert visible_ms < 1000, f"sign-in form visible {visible_ms:.0f} ms after navigation"


def test_a_new_user_signs_up_with_the_keyboard_only(
    new_page: OpenPage, page_errors: list[str]
) -> None:
    page = new_page()
    page.get_by_label("Email").first.wait_for()
    # Move to the "Create account" tab with the arrow key, then fill the form with Tab.
    page.get_by_role("tab", name="Sign in").focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Create account")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Name (optional)")).to_be_focused()
    page.keyboard.type("Keyboard User")
    page.keyboard.press("Tab")
    page.keyboard.type(fresh_email("keys"))
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#account-name")).to_have_text("Keyboard User")
    expect(page.locator("#connection")).to_contain_text("Live")
    assert page_errors == []


def test_wrong_password_and_taken_email_are_explained(new_page: OpenPage) -> None:
    page = new_page()
    email = sign_up(page, "errors")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()

    page.locator("#login-email").fill(email)
    page.locator("#login-password").fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#login-error")).to_have_text("Wrong email or password.")
    expect(page.locator("#login-password")).to_have_attribute("aria-invalid", "true")

    page.get_by_role("tab", name="Create account").click()
    page.locator("#register-email").fill(email)
    page.locator("#register-password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#register-error")).to_contain_text("already exists")

    page.locator("#register-email").fill(fresh_email())
    page.locator("#register-password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("#register-error")).to_contain_text("at least 8 characters")


def test_a_reload_keeps_the_user_signed_in_and_sign_out_ends_it(new_page: OpenPage) -> None:
    page = new_page()
    sign_up(page, "reload")
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.locator("#account-name")).to_have_text("reload")
    # The access token is never stored; the refresh token is this tab's only.
    stored = page.evaluate("JSON.stringify([{...sessionStorage}, {...localStorage}])")
    assert "eyJ" not in stored  # no JWT at rest

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out.")).to_be_visible()
    page.reload()
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()


def test_a_session_ended_elsewhere_returns_to_the_sign_in_form(new_page: OpenPage) -> None:
    page = new_page()
    email = sign_up(page, "ended")
    # The refresh token lives in an HttpOnly cookie: no script of the page can read it.
    assert page.evaluate("document.cookie") == ""
    assert page.evaluate("sessionStorage.getItem('netra.refresh_token')") is None
    # Another client rotates it away (the test reads the cookie as the browser holds it);
    # at the next start the page presents the old one, reuse detection revokes the session,
    # and the page asks the user to sign in again.
    cookie = next(c for c in page.context.cookies() if c["name"] == "netra_refresh")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    status = page.evaluate(
        """async (token) => (await fetch('/api/auth/refresh', {method: 'POST',
            headers: {'Content-Type': 'application/json'}, credentials: 'omit',
            body: JSON.stringify({refresh_token: token})})).status""",
        cookie["value"],
    )
    assert status == 200
    page.reload()
    expect(page.get_by_text("Your session has ended")).to_be_visible()
    sign_in(page, email)
