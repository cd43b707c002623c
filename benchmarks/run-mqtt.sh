#!/usr/bin/env bash
# MQTT publish throughput: the in-house .NET client against mosquitto_pub and Python paho, same broker,
# same message count and size, in one run; plus managed allocations per message of the .NET client.
#   benchmarks/run-mqtt.sh [count] [size]      (defaults 100000 messages of 64 bytes)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
count="${1:-100000}"
size="${2:-64}"
work="$(mktemp -d)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"

cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
user $(id -un)
CONF
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.out" 2>&1 &
broker=$!
trap 'kill "$broker" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done

dotnet build -c Release -v q -nologo "$root/benchmarks/Edge.Mqtt.Benchmarks" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
bench="$root/benchmarks/Edge.Mqtt.Benchmarks/bin/Release/net10.0/Edge.Mqtt.Benchmarks"
head -c "$size" /dev/zero | tr '\0' 'x' > "$work/line"
for _ in $(seq "$count"); do cat "$work/line"; echo; done > "$work/lines"

rate() { sed -n 's/.*rate=\([0-9]*\).*/\1/p'; }
echo "broker: mosquitto $(mosquitto -h 2>&1 | head -1 | awk '{print $3}') on 127.0.0.1:$port; $count messages of $size bytes; max in-flight 20 for every client"
for qos in 0 1; do
  ours="$("$bench" 127.0.0.1 "$port" "$qos" "$count" "$size" 20)"
  start=$(date +%s.%N)
  mosquitto_pub -h 127.0.0.1 -p "$port" -q "$qos" -t bench/topic -l < "$work/lines"
  end=$(date +%s.%N)
  mp_rate=$(/usr/bin/python3 -c "print(round($count/($end-$start)))")
  paho="$(/usr/bin/python3 "$root/benchmarks/paho_publish.py" 127.0.0.1 "$port" "$qos" "$count" "$size")"
  our_rate=$(echo "$ours" | rate); paho_rate=$(echo "$paho" | rate)
  echo "$ours"
  echo "mosquitto_pub qos=$qos count=$count size=$size rate=$mp_rate"
  echo "$paho"
  /usr/bin/python3 -c "print(f'QoS $qos: dotnet/mosquitto_pub = {$our_rate/$mp_rate:.2f}x, dotnet/paho = {$our_rate/$paho_rate:.2f}x')"
done
