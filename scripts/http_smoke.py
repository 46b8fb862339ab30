"""HTTP checks of a deployed server, as a browser behind the TLS proxy would do them.

Used by ``scripts/deploy_smoke.sh`` (CI) and ``tests/deploy/test_deploy_smoke.py``:

    python scripts/http_smoke.py http://127.0.0.1:PORT trials.example.org USER PASSWORD

The server runs with ``DEBUG=0`` and ``SECURE_SSL_REDIRECT`` on, so every request carries
``X-Forwarded-Proto: https`` and the public host name, as the documented proxy sends them.
Secure cookies are kept by hand (an HTTP client would not send them over plain http).
Only the standard library: it runs in any Python.
"""

from __future__ import annotations

import http.client
import re
import sys
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class Browser:
    base: str
    host: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        url = urllib.parse.urlsplit(self.base)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {
            "Host": self.host,
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "198.51.100.23",
            "User-Agent": "hbtrials-deploy-smoke",
        }
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://{self.host}"
            headers["Referer"] = f"https://{self.host}{path}"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                self.cookies[cookie_name.strip()] = rest.split(";", 1)[0]
        answer = Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            raw.decode("utf-8", "replace"),
        )
        conn.close()
        return answer


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"deploy smoke FAILED: {message}")
    print(f"ok: {message}")


def run(base: str, host: str, username: str, password: str) -> None:
    browser = Browser(base, host)
    login = browser.request("GET", "/accounts/login/")
    check(login.status == 200, f"login page answers 200 (got {login.status})")
    check("csrftoken" in browser.cookies, "login page sets the CSRF cookie")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login.body)
    check(token is not None, "login form carries a CSRF token")
    css = re.search(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"', login.body)
    check(css is not None, "pages link the hashed static files of the manifest")
    static = browser.request("GET", css.group(1))
    check(static.status == 200, f"static file {css.group(1)} answers 200 (got {static.status})")
    check("max-age" in static.headers.get("cache-control", ""), "static files are cacheable")

    answer = browser.request(
        "POST",
        "/accounts/login/",
        {"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
    )
    check(answer.status == 302, f"login redirects (got {answer.status}: {answer.body[:300]})")
    check("sessionid" in browser.cookies, "login sets the session cookie")
    home = browser.request("GET", "/")
    check(home.status == 200, f"home page answers 200 when logged in (got {home.status})")
    trials = browser.request("GET", "/trials/")
    found = re.search(r'href="/trials/(\d+)/"', trials.body)
    check(trials.status == 200 and found is not None, "trial list shows a trial")
    dashboard = browser.request("GET", f"/trials/{found.group(1)}/dashboard/")
    check(dashboard.status == 200, f"trial dashboard answers 200 (got {dashboard.status})")
    check("chart" in dashboard.body.lower(), "dashboard page links its charts")
    api = browser.request("GET", "/api/v1/patients/")
    check(api.status == 200, f"API list answers 200 with the session (got {api.status})")


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    run(*sys.argv[1:])
