"""A small camera that misbehaves the way real ones do, for the MJPEG reader's tests.

Usage: StreamServer.py PORT IMAGE.jpg
  /odd      multipart/x-mixed-replace with boundary=--cam (dashes inside the parameter), parts
            without Content-Length, a lower-case header, and the third part a truncated JPEG.
  /snapshot the image itself, as a snapshot URL.
"""
import http.server
import sys
import time

port, image_path = int(sys.argv[1]), sys.argv[2]
with open(image_path, "rb") as f:
    image = f.read()


class Camera(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/snapshot":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(image)))
            self.end_headers()
            self.wfile.write(image)
            return
        if self.path != "/odd":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=--cam")
        self.end_headers()
        try:
            for i in range(100000):
                body = image[: len(image) // 3] if i == 2 else image
                self.wfile.write(b"----cam\r\ncontent-type: image/jpeg\r\n\r\n" + body + b"\r\n")
                self.wfile.flush()
                time.sleep(0.05)
        except (BrokenPipeError, ConnectionResetError):
            pass


http.server.ThreadingHTTPServer(("127.0.0.1", port), Camera).serve_forever()
