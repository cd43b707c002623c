"""Publish throughput of Eclipse paho (Debian python3-paho-mqtt), measured like the .NET harness:
connect, publish N messages of S bytes, stop when the last is done (QoS 0: sent; QoS 1: acknowledged)."""
import sys
import threading
import time

import paho.mqtt.client as mqtt

host, port, qos, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
payload = b"x" * size
done = threading.Event()
connected = threading.Event()
# paho 1.6 scans its whole outgoing queue on every acknowledgement, so an unbounded queue of 100,000
# QoS 1 messages never finishes; keep at most 1024 outstanding, as the .NET harness does.
window = threading.BoundedSemaphore(1024)
published = 0


def on_publish(client, userdata, mid):
    global published
    published += 1
    window.release()
    if published == count:
        done.set()


start = time.perf_counter()
client = mqtt.Client(client_id="bench-paho")
client.on_publish = on_publish
client.on_connect = lambda client, userdata, flags, rc: connected.set()
client.connect(host, port)
client.loop_start()
# Messages published before CONNACK can stall paho 1.6's in-flight queue, so wait for it as a careful user would.
connected.wait(30)
for _ in range(count):
    window.acquire()
    client.publish("bench/topic", payload, qos=qos)
done.wait(600)
client.disconnect()
client.loop_stop()
seconds = time.perf_counter() - start
print(f"paho qos={qos} count={count} size={size} seconds={seconds:.3f} rate={count / seconds:.0f} published={published}")
