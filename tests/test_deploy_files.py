"""The deployment files under deploy/ (docs/deploy.md): every YAML parses; every Bedside
container is probed for readiness on /readyz (and, in Kubernetes, for liveness on /healthz); the
proxies keep websockets open; and every BEDSIDE_* name they (or docs/deploy.md) use is a setting
of server/config.py, so renaming a setting breaks this test instead of a deployment.

The tools themselves check what they can where they are installed: `docker compose config`,
`caddy adapt` and `kubectl kustomize`; each is skipped, saying so, where it is not."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from server.config import REPO_ROOT, Settings

DEPLOY = REPO_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
CADDYFILE = DEPLOY / "Caddyfile"
K8S = DEPLOY / "k8s"
DOC = REPO_ROOT / "docs" / "deploy.md"
SETTING_NAMES = {f"BEDSIDE_{name.upper()}" for name in Settings.model_fields}
BEDSIDE_NAME = re.compile(r"\bBEDSIDE_[A-Z0-9_]*[A-Z0-9]\b")  # not a prefix such as BEDSIDE_OPENAI_*
NOT_SETTINGS = {"BEDSIDE_SITE_ADDRESS"}  # Caddy's site address (deploy/Caddyfile), not a Bedside setting
COMPOSE_ENV = {"POSTGRES_PASSWORD": "test-password", "BEDSIDE_EDUCATOR_TOKEN": "test-token"}


def load_all(path: Path) -> list:
    return [doc for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")) if doc is not None]


def yaml_files() -> list[Path]:
    return sorted(p for ext in ("*.yaml", "*.yml") for p in DEPLOY.rglob(ext))


def compose() -> dict:
    return load_all(COMPOSE)[0]


def bedside_services() -> dict[str, dict]:
    """The services built from the repository's Dockerfile: the Bedside replicas."""
    return {name: s for name, s in compose()["services"].items() if "build" in s}


def k8s_objects() -> list[dict]:
    return [doc for path in sorted(K8S.rglob("*.yaml")) for doc in load_all(path) if "kind" in doc]


def of_kind(kind: str) -> list[dict]:
    return [o for o in k8s_objects() if o["kind"] == kind]


def unknown_settings(names) -> set[str]:
    return {n for n in names if n.startswith("BEDSIDE_")} - SETTING_NAMES - NOT_SETTINGS


def test_every_yaml_file_parses():
    files = yaml_files()
    assert COMPOSE in files and len(files) >= 8, files
    for path in files:
        assert load_all(path), f"{path} is empty"


# --- docker compose ----------------------------------------------------------------------------

def test_compose_runs_several_replicas_each_probed_on_readyz():
    replicas = bedside_services()
    assert len(replicas) >= 2, "the point of the file is more than one replica"
    for name, service in replicas.items():
        assert service["build"]["dockerfile"] == "Dockerfile" and (COMPOSE.parent / service["build"]["context"]
                                                                    / "Dockerfile").is_file(), name
        assert "/readyz" in " ".join(service["healthcheck"]["test"]), f"{name}: the healthcheck must ask /readyz"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name
        assert service.get("stop_grace_period"), f"{name}: give open sessions time to close on SIGTERM"


def test_compose_points_every_replica_at_postgres_with_its_secrets_from_the_environment():
    postgres = compose()["services"]["postgres"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"]), "the data needs a volume"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    for name, service in bedside_services().items():
        env = service["environment"]
        url = env["BEDSIDE_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url, name
        assert "${POSTGRES_PASSWORD:?" in url, f"{name}: the password comes from deploy/.env, never the file"
        assert env["BEDSIDE_EDUCATOR_TOKEN"].startswith("${BEDSIDE_EDUCATOR_TOKEN:?"), name
        assert env["FORWARDED_ALLOW_IPS"], f"{name}: without it every learner has the proxy's address"


def test_compose_and_env_example_use_only_real_settings():
    names = set()
    for service in compose()["services"].values():
        names |= set(service.get("environment") or {})
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    names |= {m.group(1) for m in re.finditer(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, re.MULTILINE)}
    assert {"BEDSIDE_ASR_OPENAI_BASE_URL", "BEDSIDE_OPENAI_BASE_URL", "BEDSIDE_REALISER"} <= names
    assert not unknown_settings(names), f"not settings of server/config.py: {unknown_settings(names)}"


def test_compose_gpu_profile_serves_whisper_and_an_instruct_model_on_vllm():
    services = compose()["services"]
    gpu = {name: s for name, s in services.items() if "gpu" in s.get("profiles", [])}
    assert set(gpu) == {"vllm-whisper", "vllm-llm"}
    assert "whisper" in " ".join(gpu["vllm-whisper"]["command"])
    example = (DEPLOY / ".env.example").read_text(encoding="utf-8")
    for name in gpu:  # deploy/.env.example points Bedside at each one
        assert f"http://{name}:8000/v1" in example, name
    assert all("profiles" not in s for s in bedside_services().values()), "the replicas run without a GPU"


def test_the_env_file_with_the_secrets_stays_out_of_git_and_out_of_the_image():
    """The Dockerfile copies the whole checkout: without the .dockerignore line, deploy/.env's
    database password and educator token would be baked into every image built."""
    for ignore in (".gitignore", ".dockerignore"):
        assert "deploy/.env" in (REPO_ROOT / ignore).read_text(encoding="utf-8").splitlines(), ignore


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_docker_compose_config_accepts_the_file(tmp_path):
    command = compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed; runs where either is on PATH "
                    "(the structural checks above run everywhere)")
    no_env_file = tmp_path / "empty.env"  # a deploy/.env of someone's own must not decide the result
    no_env_file.write_text("")
    base = [*command, "--env-file", str(no_env_file), "-f", str(COMPOSE)]
    ok = subprocess.run([*base, "--profile", "gpu", "config"], capture_output=True, text=True, cwd=tmp_path,
                        env={**os.environ, **COMPOSE_ENV})
    assert ok.returncode == 0, ok.stderr
    assert "test-password@postgres:5432" in ok.stdout
    missing = subprocess.run([*base, "config"], capture_output=True, text=True, cwd=tmp_path,
                             env={k: v for k, v in os.environ.items() if k not in COMPOSE_ENV})
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr  # no default password, ever


# --- Caddy ---------------------------------------------------------------------------------------

def caddy_blocks(text: str) -> dict[str, str]:
    """The top-level blocks of a Caddyfile by their opening line (snippets and sites)."""
    blocks, depth, head, body = {}, 0, None, []
    for line in text.splitlines():
        stripped = line.split("#", 1)[0].strip() if not line.strip().startswith("#") else ""
        if depth == 0 and stripped.endswith("{"):
            head, body = stripped[:-1].strip(), []
        elif head is not None:
            body.append(stripped)
        depth += stripped.count("{") - stripped.count("}")
        if depth == 0 and head is not None and stripped == "}":
            blocks[head] = "\n".join(body[:-1])
            head = None
    return blocks


def test_caddyfile_balances_the_replicas_and_keeps_websockets_open():
    blocks = caddy_blocks(CADDYFILE.read_text(encoding="utf-8"))
    upstreams = blocks["(bedside_upstreams)"]
    to = next(line.split()[1:] for line in upstreams.splitlines() if line.startswith("to "))
    assert sorted(to) == sorted(f"{name}:8000" for name in bedside_services()), "every replica, and only those"
    assert "health_uri /readyz" in upstreams and "lb_policy" in upstreams
    site = next(body for head, body in blocks.items() if not head.startswith("("))
    ws = site.split("handle /ws/* {", 1)[1].split("handle {", 1)[0]
    assert "reverse_proxy" in ws and "import bedside_upstreams" in ws
    assert "flush_interval -1" in ws and "stream_close_delay" in ws
    assert "stream_timeout" not in ws, "a time limit on the stream would cut a long session"


def test_caddy_adapts_the_caddyfile():
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed; runs where caddy 2.7 or newer is on PATH (the structure is checked above everywhere)")
    version = subprocess.run([caddy, "version"], capture_output=True, text=True).stdout.strip()
    found = re.match(r"v?(\d+)\.(\d+)", version)
    if found and (int(found[1]), int(found[2])) < (2, 7):
        pytest.skip(f"caddy {version} is older than 2.7, which stream_close_delay needs; runs where caddy 2.7 or newer is on PATH "
                    "(compose.yaml runs caddy:2)")
    done = subprocess.run([caddy, "adapt", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    routes = json.loads(done.stdout)["apps"]["http"]["servers"]["srv0"]["routes"]
    ws = next(r for r in routes if r.get("match") == [{"path": ["/ws/*"]}])
    proxy = ws["handle"][0]["routes"][0]["handle"][0]
    assert proxy["handler"] == "reverse_proxy" and proxy["health_checks"]["active"]["uri"] == "/readyz"
    assert {u["dial"] for u in proxy["upstreams"]} == {f"{name}:8000" for name in bedside_services()}


# --- Kubernetes ----------------------------------------------------------------------------------

def bedside_containers() -> list[tuple[dict, dict]]:
    return [(d, c) for d in of_kind("Deployment") for c in d["spec"]["template"]["spec"]["containers"]
            if c["image"].split(":")[0].endswith("bedside")]


def test_k8s_deployment_probes_readiness_on_readyz_and_liveness_on_healthz():
    containers = bedside_containers()
    assert containers, "no Bedside Deployment under deploy/k8s"
    for deployment, c in containers:
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert c["readinessProbe"]["timeoutSeconds"] > 2, "/readyz gives the database 2 s to answer"
        assert c["resources"]["requests"]["memory"] and c["resources"]["limits"]["memory"]
        spec = deployment["spec"]
        assert spec["replicas"] >= 2 and spec["template"]["spec"]["terminationGracePeriodSeconds"] > 30


def test_k8s_secrets_come_from_the_secret_and_names_are_real_settings():
    example = next(o for o in of_kind("Secret") if o["metadata"]["name"] == "bedside")
    names = set()
    for _, c in bedside_containers():
        for var in c["env"]:
            names.add(var["name"])
            ref = var.get("valueFrom", {}).get("secretKeyRef")
            if ref:  # the key exists in the example the docs tell people to copy
                assert ref["name"] == "bedside" and ref["key"] in example["stringData"], var
        assert {"BEDSIDE_DATABASE_URL", "BEDSIDE_EDUCATOR_TOKEN"} <= {
            v["name"] for v in c["env"] if "secretKeyRef" in v.get("valueFrom", {})}
    configmap = (K8S / "configmap.yaml").read_text(encoding="utf-8")
    names |= set(BEDSIDE_NAME.findall(configmap))  # its commented lines too: they are meant to be used
    assert not unknown_settings(names), f"not settings of server/config.py: {unknown_settings(names)}"
    kustomization = load_all(K8S / "kustomization.yaml")[0]
    assert not any("secret" in r for r in kustomization["resources"]), "a placeholder Secret must never be applied"


def test_k8s_ingress_keeps_websockets_open_longer_than_bedside_idles():
    (ingress,) = of_kind("Ingress")
    notes = ingress["metadata"]["annotations"]
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(notes[f"nginx.ingress.kubernetes.io/{key}"]) > Settings().idle_timeout_s, key
    (service,) = [s for s in of_kind("Service") if s["metadata"]["name"] == "bedside"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == "bedside" and backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}
    (deployment, container), *_ = bedside_containers()
    assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    target = service["spec"]["ports"][0]["targetPort"]
    assert target in {p["name"] for p in container["ports"]}


def test_k8s_trial_postgres_says_it_is_not_for_production():
    for path in (K8S / "postgres-trial").glob("*.yaml"):
        assert "NOT FOR PRODUCTION" in path.read_text(encoding="utf-8"), path
    assert of_kind("StatefulSet")[0]["spec"]["volumeClaimTemplates"]


def test_kubectl_kustomize_builds_the_manifests():
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; runs where kubectl is on PATH (the manifests' structure is checked above everywhere)")
    for folder in (K8S, K8S / "postgres-trial"):
        done = subprocess.run([kubectl, "kustomize", str(folder)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert all(doc.get("metadata", {}).get("namespace") == "bedside"
                   for doc in YAML(typ="safe").load_all(done.stdout) if doc and doc["kind"] != "Namespace")


# --- the guide -------------------------------------------------------------------------------------

def test_the_deploy_guide_names_only_real_settings():
    names = set(BEDSIDE_NAME.findall(DOC.read_text(encoding="utf-8")))
    assert {"BEDSIDE_ASR_OPENAI_BASE_URL", "BEDSIDE_TTS_OPENAI_BASE_URL", "BEDSIDE_REALISER_OPENAI_BASE_URL"} <= names
    assert not unknown_settings(names), f"docs/deploy.md names settings that do not exist: {unknown_settings(names)}"
