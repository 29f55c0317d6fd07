"""[metrics] listen: the Prometheus endpoint, scraped with http.client and
parsed with Debian's python3-prometheus-client (its text parser is the
reference reader of the exposition format). Traffic of known shape is sent
first (mail over SMTP, a wrong and a right POP3 login over implicit TLS,
HTTP requests), then the counters and histograms are checked against it."""

import http.client
import poplib
import smtplib
import ssl
import sys
import unittest

from portico import Server, ServerTest, free_port, wait_until
from relay_common import fast_relay, queue_ids, submit

# python3-prometheus-client is installed for Debian's /usr/bin/python3; the
# test runner's python3 may be another build (pyenv 3.11) without Debian's
# dist-packages, so that directory is appended to the search path.
sys.path.append("/usr/lib/python3/dist-packages")
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

USER = "alice@example.org"
PASSWORD = "alice-pw"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class MetricsTest(ServerTest):
    SERVICES = ("smtp", "pop3", "http", "metrics")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.add_user(USER, PASSWORD)

    def request(self, method="GET", path="/metrics"):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.ports["metrics"],
                                          timeout=10)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read().decode()
        finally:
            conn.close()

    def scrape(self):
        """{(sample name, proto or None[, le]): value} and the family types."""
        status, headers, body = self.request()
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        samples, types = {}, {}
        for family in text_string_to_metric_families(body):
            types[family.name] = family.type
            for s in family.samples:
                key = (s.name, s.labels.get("proto"))
                if "le" in s.labels:
                    key += (s.labels["le"],)
                samples[key] = s.value
        return samples, types

    def value(self, name, proto):
        return self.scrape()[0].get((name, proto), 0)

    def send_mail(self):
        with smtplib.SMTP("127.0.0.1", self.server.ports["smtp"], timeout=10) as s:
            s.sendmail("someone@example.net", [USER],
                       b"Subject: metrics\r\n\r\n" + (b"y" * 70 + b"\r\n") * 80)

    def test_counters_follow_traffic(self):
        before, types = self.scrape()
        self.assertEqual(types["portico_connections"], "counter")
        self.assertEqual(types["portico_command_duration_seconds"], "histogram")
        self.assertEqual(types["portico_workpool_threads"], "gauge")

        self.send_mail()
        with self.assertRaises(poplib.error_proto):
            p = poplib.POP3_SSL("127.0.0.1", self.server.ports["pop3_tls"],
                                context=tls_context(), timeout=10)
            try:
                p.user(USER)
                p.pass_("wrong")
            finally:
                p.close()
        p = poplib.POP3_SSL("127.0.0.1", self.server.ports["pop3_tls"],
                            context=tls_context(), timeout=30)
        p.user(USER)
        p.pass_(PASSWORD)
        self.assertEqual(p.stat()[0], 1)
        p.retr(1)
        p.quit()
        for _ in range(3):
            c = http.client.HTTPConnection("127.0.0.1", self.server.ports["http"], timeout=10)
            c.request("GET", "/no-such-file")
            self.assertEqual(c.getresponse().status, 404)
            c.close()

        def delta(name, proto):
            return after.get((name, proto), 0) - before.get((name, proto), 0)

        # Bytes are counted when a session ends: wait until all have.
        def settled():
            nonlocal after
            after, _ = self.scrape()
            return (delta("portico_connections_active", "smtp") == 0 and
                    delta("portico_connections_active", "pop3") == 0 and
                    delta("portico_connections_active", "http") == 0)
        after = {}
        wait_until(settled, what="sessions ended")

        self.assertEqual(delta("portico_connections_total", "smtp"), 1)
        self.assertEqual(delta("portico_connections_total", "pop3"), 2)
        self.assertEqual(delta("portico_connections_total", "http"), 3)
        self.assertEqual(delta("portico_deliveries_total", "smtp"), 1)
        self.assertEqual(delta("portico_auth_failures_total", "pop3"), 1)
        self.assertEqual(delta("portico_tls_handshakes_total", "pop3"), 2)
        self.assertEqual(delta("portico_tls_handshakes_total", "smtp"), 0)
        # EHLO, MAIL, RCPT, DATA, QUIT at least.
        self.assertGreaterEqual(delta("portico_commands_total", "smtp"), 5)
        self.assertEqual(delta("portico_commands_total", "http"), 3)
        self.assertEqual(delta("portico_command_errors_total", "http"), 3)
        self.assertGreater(delta("portico_received_bytes_total", "smtp"), 5000)
        self.assertGreater(delta("portico_sent_bytes_total", "pop3"), 5000)  # RETR
        # The histogram agrees with itself: +Inf bucket == count, buckets grow.
        inf = after[("portico_command_duration_seconds_bucket", "smtp", "+Inf")]
        self.assertEqual(inf, after[("portico_command_duration_seconds_count", "smtp")])
        self.assertGreaterEqual(inf, delta("portico_commands_total", "smtp"))
        les = sorted((float(k[2]), v) for k, v in after.items()
                     if k[0] == "portico_command_duration_seconds_bucket" and k[1] == "smtp")
        self.assertEqual([v for _, v in les], sorted(v for _, v in les))
        self.assertGreater(after[("portico_command_duration_seconds_sum", "smtp")], 0)
        self.assertGreaterEqual(after[("portico_workpool_threads", None)], 1)
        self.assertIn(("portico_workpool_queued_jobs", None), after)
        self.assertEqual(after[("portico_queue_messages", None)], 0)

    def test_only_get_metrics(self):
        self.assertEqual(self.request(path="/")[0], 404)
        self.assertEqual(self.request(path="/metrics?x=1")[0], 200)
        status, headers, _ = self.request(method="POST")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        status, headers, body = self.request(method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertGreater(int(headers["Content-Length"]), 1000)

    def test_every_protocol_has_a_series(self):
        samples, _ = self.scrape()
        for proto in ("smtp", "submission", "pop3", "imap", "ftp", "http", "sftp", "metrics"):
            for name in ("portico_connections_total", "portico_commands_total",
                         "portico_auth_lockouts_total", "portico_tls_handshakes_total"):
                self.assertIn((name, proto), samples)

    def test_oversized_request_refused(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.ports["metrics"],
                                          timeout=10)
        conn.putrequest("GET", "/metrics")
        conn.putheader("X-Big", "y" * 9000)
        conn.endheaders()
        self.assertEqual(conn.getresponse().status, 431)
        conn.close()


class MetricsOffByDefault(ServerTest):
    SERVICES = ("http",)

    def test_not_listed(self):
        self.assertNotIn("metrics", self.server.stdout())


class QueueGauge(unittest.TestCase):
    def test_queued_messages_counted(self):
        s = Server(services=("submission", "metrics"), domains="a.test",
                   extra=fast_relay(f"route = dead.test 127.0.0.1:{free_port()}"))
        self.addCleanup(s.cleanup)
        s.start()
        s.add_user("alice@a.test", "pw-gauge-1")
        for i in range(2):
            submit(s, "alice@a.test", "pw-gauge-1", [f"u{i}@dead.test"],
                   f"Subject: q{i}\r\n\r\nq\r\n".encode())
        self.assertEqual(len(queue_ids(s)), 2)
        conn = http.client.HTTPConnection("127.0.0.1", s.ports["metrics"], timeout=10)
        conn.request("GET", "/metrics")
        body = conn.getresponse().read().decode()
        conn.close()
        gauge = [x.value for f in text_string_to_metric_families(body) for x in f.samples
                 if x.name == "portico_queue_messages"]
        self.assertEqual(gauge, [2])
        s.stop()


if __name__ == "__main__":
    unittest.main()
