"""An RTSP camera on loopback for the input tests: GStreamer's RTSP server streaming a moving test pattern.

Usage: RtspServer.py PORT [WIDTHxHEIGHT]   (serves rtsp://127.0.0.1:PORT/live as RTP/JPEG, 10 fps)

ffmpeg's own RTSP muxer cannot serve: it only pushes to a server (`-rtsp_flags listen` is an input option,
for receiving a RECORD), so a camera that clients PLAY from needs a real RTSP server, and gst-rtsp-server is one.
Run with Debian's /usr/bin/python3 (python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good).
"""
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

port = sys.argv[1]
width, height = (sys.argv[2] if len(sys.argv) > 2 else "320x240").split("x")

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service(port)
factory = GstRtspServer.RTSPMediaFactory()
factory.set_launch(
    f"( videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width={width},height={height},framerate=10/1 "
    "! jpegenc quality=80 ! rtpjpegpay name=pay0 pt=26 )"
)
# RTP/JPEG carries only 4:2:0 or 4:2:2 JPEGs, hence I420.
# Every client shares one pipeline, as on a camera; a restarted reader joins the running stream.
factory.set_shared(True)
server.get_mount_points().add_factory("/live", factory)
if server.attach(None) == 0:
    sys.exit(f"RtspServer: could not listen on 127.0.0.1:{port}")
print(f"listening on rtsp://127.0.0.1:{server.get_bound_port()}/live", flush=True)
GLib.MainLoop().run()
