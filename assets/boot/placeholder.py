# Orcha placeholder (orcha-placeholder.service), until the first deployment pins an image.
#
# Answers the load balancer's health checker (User-Agent ELB-HealthChecker/...) with 200 on the
# health check path, so that the Auto Scaling group keeps an instance that booted correctly but
# has nothing to run yet. Everyone else, the pipeline's smoke test included, gets 503: no
# application is deployed. Usage: placeholder.py <port> <health check path>
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
HEALTH_PATH = sys.argv[2]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        checker = self.headers.get("User-Agent", "").startswith("ELB-HealthChecker/")
        if checker and self.path == HEALTH_PATH:
            status, body = 200, b"instance up; no application deployed yet\n"
        else:
            status, body = 503, b"Orcha: no application deployed yet\n"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("", PORT), Handler).serve_forever()
