"""A local stand-in for the Kubernetes API a step handler talks to: it takes the Jobs dagster-k8s submits
(the real client, over HTTP), runs each Job's container as a subprocess with exactly its command, args and
environment (secret references resolved from this cluster's secrets, nothing inherited from the test), and
reports the Job's status from the process's exit code. Only the calls `k8s_job_executor` makes are served."""

import json
import re
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_VERSION = {
    "major": "1", "minor": "30", "gitVersion": "v1.30.0", "gitCommit": "local", "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.22", "compiler": "gc", "platform": "linux/amd64",
}  # fmt: skip
_JOBS = re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/?]+))?(/status)?")


@dataclass
class Pod:
    job: dict
    namespace: str
    command: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None
    error: str | None = None  # why the container never started (a missing secret, as Kubernetes refuses it)

    @property
    def name(self) -> str:
        return self.job["metadata"]["name"]

    @property
    def returncode(self) -> int | None:
        return 1 if self.error else (self.process.poll() if self.process else None)


@dataclass
class LocalCluster:
    workdir: Path
    secrets: dict[str, dict[str, str]]  # secret name -> {key: value}
    image_env: dict[str, str]  # the "image"'s own environment (ENV lines): PATH to its python and dagster
    pods: list[Pod] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.startswith("/version"):
                    return self._send(200, _VERSION)
                if self.path.startswith("/api/v1/namespaces/") and "/pods" in self.path:
                    return self._send(200, {"apiVersion": "v1", "kind": "PodList", "metadata": {}, "items": []})
                found = _JOBS.match(self.path)
                pod = cluster._pod(found[2]) if found and found[2] else None
                if pod is None:
                    return self._send(
                        404, {"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}
                    )
                code = pod.returncode
                status = {"active": 1} if code is None else ({"succeeded": 1} if code == 0 else {"failed": 1})
                return self._send(200, {**pod.job, "status": status})

            def do_POST(self) -> None:
                found = _JOBS.match(self.path)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if not found or found[2]:
                    return self._send(404, {"kind": "Status", "code": 404})
                cluster._run(body, found[1])
                return self._send(201, body)

            def do_DELETE(self) -> None:
                found = _JOBS.match(self.path)
                pod = cluster._pod(found[2]) if found and found[2] else None
                if pod is not None and pod.process is not None and pod.process.poll() is None:
                    pod.process.kill()
                return self._send(200, {"kind": "Status", "apiVersion": "v1", "status": "Success"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def kubeconfig(self, path: Path, namespace: str) -> Path:
        url = f"http://127.0.0.1:{self._server.server_address[1]}"  # type: ignore[union-attr]
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters: [{{name: local, cluster: {{server: '{url}'}}}}]\n"
            "users: [{name: local, user: {token: local}}]\n"
            f"contexts: [{{name: local, context: {{cluster: local, user: local, namespace: {namespace}}}}}]\n"
            "current-context: local\n"
        )
        return path

    def stop(self, grace_s: float = 180) -> None:
        """Let running pods finish (a step's pod goes on briefly after its success event: it exits and cleans
        up), then kill what is left."""
        for pod in self.pods:
            if pod.process is not None:
                try:
                    pod.process.wait(timeout=grace_s)
                except subprocess.TimeoutExpired:
                    pod.process.kill()
                    pod.process.wait()
        if self._server is not None:
            self._server.shutdown()

    def _pod(self, name: str) -> Pod | None:
        return next((p for p in self.pods if p.name == name), None)

    def _run(self, job: dict, namespace: str) -> None:
        container = job["spec"]["template"]["spec"]["containers"][0]
        command = list(container.get("command") or []) + list(container.get("args") or [])
        home = self.workdir / f"pod{len(self.pods)}"
        (home / "tmp").mkdir(parents=True)
        env = {**self.image_env, "HOME": str(home), "TMPDIR": str(home / "tmp"), "LANG": "C.UTF-8"}
        pod = Pod(job, namespace, command, env, home / "log.txt")
        try:
            for source in container.get("envFrom") or []:
                env.update(self.secrets[source["secretRef"]["name"]])
            for var in container.get("env") or []:
                if "value" in var:
                    env[var["name"]] = var["value"]
                elif "valueFrom" in var:
                    ref = var["valueFrom"]["secretKeyRef"]
                    env[var["name"]] = self.secrets[ref["name"]][ref["key"]]
        except KeyError as missing:
            pod.error = f"secret or key {missing} not found"
        self.pods.append(pod)
        if pod.error is None:
            with pod.log.open("w") as log:
                pod.process = subprocess.Popen(command, env=env, cwd=home, stdout=log, stderr=subprocess.STDOUT)


def image_env(checkout: Path) -> dict[str, str]:
    """The "image": this interpreter's bin folder (its python, dagster) first on PATH, the project importable
    (the image installs it), unbuffered output (deploy/Dockerfile's ENV)."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "PYTHONPATH": str(checkout),
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
