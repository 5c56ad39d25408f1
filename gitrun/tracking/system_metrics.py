"""System metrics of a run (MLflow's ``log_system_metrics=True``), sampled in a background thread.

Every ``interval`` seconds (10 by default) a sample is taken; every
``samples_before_logging`` samples (1) their average is logged as ``system/<name>``
metrics at step 0, 1, 2, ... (MLflow's names):

``cpu_utilization_percentage``, ``system_memory_usage_megabytes``,
``system_memory_usage_percentage``, ``disk_usage_percentage``,
``disk_usage_megabytes``, ``disk_available_megabytes``,
``network_receive_megabytes``, ``network_transmit_megabytes`` (since the run
started), and per GPU ``gpu_<i>_utilization_percentage``,
``gpu_<i>_memory_usage_percentage``, ``gpu_<i>_memory_usage_megabytes`` when
NVIDIA's ``pynvml`` is installed and finds devices.

psutil is used when installed; without it, Linux's ``/proc`` gives the same
figures (elsewhere the CPU, memory and network figures are left out).  A sample
costs well under a millisecond; logging is a batch into the run's in-memory
buffer, so leaving this on costs nothing measurable.  The thread stops when the
run ends.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading
from collections.abc import Callable
from typing import Any

_ENABLE_ENVS = ("GITRUN_ENABLE_SYSTEM_METRICS_LOGGING", "MLFLOW_ENABLE_SYSTEM_METRICS_LOGGING")
_settings: dict[str, Any] = {"enabled": None, "interval": None, "samples": None, "node_id": None}
_monitors: dict[str, SystemMetricsMonitor] = {}
_lock = threading.Lock()


def enable_system_metrics_logging() -> None:
    """Log system metrics in every run started from now on."""
    _settings["enabled"] = True


def disable_system_metrics_logging() -> None:
    _settings["enabled"] = False


def set_system_metrics_sampling_interval(interval: float | None) -> None:
    """Seconds between samples (None: back to the default, 10)."""
    _settings["interval"] = interval


def set_system_metrics_samples_before_logging(samples: int | None) -> None:
    """How many samples are averaged into each logged point (None: 1)."""
    _settings["samples"] = samples


def set_system_metrics_node_id(node_id: str | None) -> None:
    """Name this machine in the metric keys (``system/<node_id>/...``), for multi-node runs."""
    _settings["node_id"] = node_id


def wanted(log_system_metrics: bool | None) -> bool:
    if log_system_metrics is not None:
        return log_system_metrics
    if _settings["enabled"] is not None:
        return bool(_settings["enabled"])
    return any(os.environ.get(name, "").lower() in ("1", "true") for name in _ENABLE_ENVS)


def _interval() -> float:
    if _settings["interval"] is not None:
        return float(_settings["interval"])
    for name in ("GITRUN_SYSTEM_METRICS_SAMPLING_INTERVAL", "MLFLOW_SYSTEM_METRICS_SAMPLING_INTERVAL"):
        if os.environ.get(name):
            return float(os.environ[name])
    return 10.0


class SystemMetricsMonitor:
    """Samples and logs system metrics for one run until :meth:`stop`."""

    def __init__(
        self,
        run_id: str,
        log: Callable[[str, dict[str, float], int], None],
        interval: float,
        samples_before_logging: int,
        prefix: str = "system/",
    ) -> None:
        self.run_id = run_id
        self._log = log
        self.interval = interval
        self.samples_before_logging = max(1, samples_before_logging)
        self.prefix = prefix
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name=f"gitrun-system-metrics-{run_id[:8]}", daemon=True
        )
        self._sampler = Sampler()
        self.step = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        samples: list[dict[str, float]] = []
        while not self._stop.wait(self.interval):
            try:
                samples.append(self._sampler.sample())
                if len(samples) >= self.samples_before_logging:
                    self._log(
                        self.run_id, {self.prefix + k: v for k, v in _average(samples).items()}, self.step
                    )
                    self.step += 1
                    samples = []
            except Exception:  # noqa: BLE001 - a failed sample (run deleted, ...) ends monitoring quietly
                return


def _average(samples: list[dict[str, float]]) -> dict[str, float]:
    keys = set().union(*samples)
    return {k: sum(s[k] for s in samples if k in s) / sum(1 for s in samples if k in s) for k in sorted(keys)}


class Sampler:
    """One reading of CPU, memory, disk, network (and GPUs): psutil, else ``/proc``."""

    def __init__(self) -> None:
        try:
            import psutil

            self._psutil: Any = psutil
            psutil.cpu_percent(interval=None)  # primes the CPU counter
        except ImportError:
            self._psutil = None
        self._cpu = _proc_cpu()
        self._net_start = self._network()
        self._gpus = _gpu_handles()

    def sample(self) -> dict[str, float]:
        out: dict[str, float] = {}
        out.update(self._cpu_and_memory())
        usage = shutil.disk_usage(os.path.abspath(os.sep))
        out["disk_usage_percentage"] = 100.0 * usage.used / usage.total if usage.total else 0.0
        out["disk_usage_megabytes"] = usage.used / 1e6
        out["disk_available_megabytes"] = usage.free / 1e6
        network = self._network()
        if network is not None and self._net_start is not None:
            out["network_receive_megabytes"] = (network[0] - self._net_start[0]) / 1e6
            out["network_transmit_megabytes"] = (network[1] - self._net_start[1]) / 1e6
        out.update(_gpu_sample(self._gpus))
        return out

    def _cpu_and_memory(self) -> dict[str, float]:
        if self._psutil is not None:
            memory = self._psutil.virtual_memory()
            return {
                "cpu_utilization_percentage": float(self._psutil.cpu_percent(interval=None)),
                "system_memory_usage_megabytes": memory.used / 1e6,
                "system_memory_usage_percentage": float(memory.percent),
            }
        out: dict[str, float] = {}
        now = _proc_cpu()
        if now is not None and self._cpu is not None:
            busy, total = now[0] - self._cpu[0], now[1] - self._cpu[1]
            out["cpu_utilization_percentage"] = 100.0 * busy / total if total else 0.0
            self._cpu = now
        memory = _proc_memory()
        if memory is not None:
            total_kb, available_kb = memory
            out["system_memory_usage_megabytes"] = (total_kb - available_kb) * 1024 / 1e6
            out["system_memory_usage_percentage"] = 100.0 * (total_kb - available_kb) / total_kb
        return out

    def _network(self) -> tuple[int, int] | None:
        if self._psutil is not None:
            counters = self._psutil.net_io_counters()
            return int(counters.bytes_recv), int(counters.bytes_sent)
        try:
            with open("/proc/net/dev", encoding="ascii") as fh:
                rows = [line.split(":", 1)[1].split() for line in fh.readlines()[2:] if ":" in line]
        except OSError:
            return None
        return sum(int(r[0]) for r in rows), sum(int(r[8]) for r in rows)


def _proc_cpu() -> tuple[int, int] | None:
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            fields = [int(x) for x in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _proc_memory() -> tuple[int, int] | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            values = {line.split(":")[0]: int(line.split()[1]) for line in fh if line.split()[1:2]}
    except (OSError, ValueError, IndexError):
        return None
    if "MemTotal" not in values or "MemAvailable" not in values:
        return None
    return values["MemTotal"], values["MemAvailable"]


def _gpu_handles() -> list[Any]:
    try:
        import pynvml  # NVIDIA's bindings: only where a GPU driver is installed
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
        return [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
    except Exception:  # noqa: BLE001 - no driver or no device: no GPU metrics
        return []


def _gpu_sample(handles: list[Any]) -> dict[str, float]:
    if not handles:
        return {}
    import pynvml

    out: dict[str, float] = {}
    for index, handle in enumerate(handles):
        memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
        out[f"gpu_{index}_utilization_percentage"] = float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
        out[f"gpu_{index}_memory_usage_megabytes"] = memory.used / 1e6
        out[f"gpu_{index}_memory_usage_percentage"] = (
            100.0 * memory.used / memory.total if memory.total else 0.0
        )
    return out


# -- runs ----------------------------------------------------------------------------------------


def start(run_id: str, log: Callable[[str, dict[str, float], int], None]) -> SystemMetricsMonitor:
    """Start monitoring ``run_id`` (once per run)."""
    with _lock:
        monitor = _monitors.get(run_id)
        if monitor is None:
            node = _settings["node_id"]
            monitor = SystemMetricsMonitor(
                run_id,
                log,
                _interval(),
                int(_settings["samples"] or 1),
                f"system/{node}/" if node else "system/",
            )
            _monitors[run_id] = monitor
            monitor.start()
    return monitor


def stop(run_id: str, status: str | None = None) -> None:
    """Stop monitoring ``run_id`` (an end-of-run hook: never raises)."""
    with _lock:
        monitor = _monitors.pop(run_id, None)
    if monitor is not None:
        monitor.stop()


def _stop_all() -> None:
    for run_id in list(_monitors):
        stop(run_id)


atexit.register(_stop_all)
