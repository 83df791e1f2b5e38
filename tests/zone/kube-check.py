#!/usr/bin/python3
"""kube-check.py: offline checks of controlzone's Kubernetes manifests, for
tests/zone/t-kube.sh (there is no API server to validate against here, and
Debian's kubectl cannot validate without one).

  kube-check.py check FILE --version V --schedulers S1,S2,... --help-file H
      Every document's fields against a schema of the Kubernetes API
      objects the manifest uses (an unknown or misspelt field, or a value
      of the wrong type, is an error, as the API server's strict decoding
      makes it), then what a controlzone scheduler DaemonSet must have:
      the node label selector naming a known scheduler, that scheduler's
      image at version V (controlzone/scx_NAME:V, under a registry or
      not), hostPID, no privileged mode, every capability dropped (ALL)
      and exactly BPF and PERFMON added (tests/vm/t-caps.sh measured
      that set), the hostPath mounts
      /sys/kernel/sched_ext and /var/run/scx, a bounded
      terminationGracePeriodSeconds, the preStop hook `czctl stop
      --container`, every $(VAR) of its args defined,
      every ConfigMap key it reads present in the file, and every option
      of its args listed in the scheduler's --help (file H).
      Prints one line per problem, "FILE: KIND/NAME: PATH: problem", and
      exits 1; prints "ok: ..." and exits 0 when there is none.
  kube-check.py pod FILE --name NAME --image IMAGE --host-root DIR [--args A,B]
      The DaemonSet's pod template as a Pod for `podman kube play`, with
      the ConfigMaps it reads, on stdout: named NAME, restartPolicy Never,
      the image replaced, hostPath directories moved under DIR (nothing on
      the host is touched), node selection dropped, and with --args the
      container's args replaced (A,B: comma-separated). $(VAR) in the
      args is expanded from the container's env and the ConfigMaps, as the
      kubelet does it (podman 4.3's kube play passes it on literally). A
      mount under /sys that this host's sysfs lacks (/sys/kernel/sched_ext
      without sched_ext) is moved to /host/sys/...: a container's /sys is
      the host's read-only sysfs, where no mount point can be made; stderr
      says which.

Exit status: 0 fine; 1 problems found; 2 bad usage or an unreadable file.
Key choice: the schema lists only the fields this project's manifests use
or might plausibly use, typed; anything else is reported, so a typo such
as `hostPid` fails the check instead of being dropped silently.
"""

import argparse
import copy
import os
import re
import sys

import yaml

# ---- schema: a type name, a dict of fields, or a one-element list ----
STR, INT, BOOL, LABELS, QTY = "string", "integer", "boolean", "labels", "quantity"

META = {"name": STR, "namespace": STR, "labels": LABELS, "annotations": LABELS}
SELECTOR = {
    "matchLabels": LABELS,
    "matchExpressions": [{"key": STR, "operator": STR, "values": [STR]}],
}
HANDLER = {
    "exec": {"command": [STR]},
    "httpGet": {"path": STR, "port": INT, "host": STR, "scheme": STR},
    "sleep": {"seconds": INT},
}
KEYREF = {"name": STR, "key": STR, "optional": BOOL}
CONTAINER = {
    "name": STR,
    "image": STR,
    "imagePullPolicy": STR,
    "command": [STR],
    "args": [STR],
    "workingDir": STR,
    "env": [{
        "name": STR,
        "value": STR,
        "valueFrom": {
            "configMapKeyRef": KEYREF,
            "secretKeyRef": KEYREF,
            "fieldRef": {"fieldPath": STR, "apiVersion": STR},
        },
    }],
    "envFrom": [{"configMapRef": {"name": STR, "optional": BOOL}, "prefix": STR}],
    "securityContext": {
        "privileged": BOOL,
        "runAsUser": INT,
        "runAsGroup": INT,
        "runAsNonRoot": BOOL,
        "readOnlyRootFilesystem": BOOL,
        "allowPrivilegeEscalation": BOOL,
        "capabilities": {"add": [STR], "drop": [STR]},
        "seccompProfile": {"type": STR, "localhostProfile": STR},
    },
    "lifecycle": {"preStop": HANDLER, "postStart": HANDLER},
    "resources": {"requests": {"cpu": QTY, "memory": QTY},
                  "limits": {"cpu": QTY, "memory": QTY}},
    "volumeMounts": [{"name": STR, "mountPath": STR, "readOnly": BOOL,
                      "subPath": STR, "mountPropagation": STR}],
    "livenessProbe": {"exec": {"command": [STR]}, "periodSeconds": INT,
                      "initialDelaySeconds": INT, "failureThreshold": INT},
    "terminationMessagePolicy": STR,
}
POD_SPEC = {
    "nodeSelector": LABELS,
    "tolerations": [{"key": STR, "operator": STR, "value": STR,
                     "effect": STR, "tolerationSeconds": INT}],
    "hostPID": BOOL,
    "hostNetwork": BOOL,
    "hostIPC": BOOL,
    "restartPolicy": STR,
    "terminationGracePeriodSeconds": INT,
    "priorityClassName": STR,
    "runtimeClassName": STR,
    "serviceAccountName": STR,
    "automountServiceAccountToken": BOOL,
    "dnsPolicy": STR,
    "containers": [CONTAINER],
    "initContainers": [CONTAINER],
    "securityContext": {"runAsUser": INT, "runAsNonRoot": BOOL,
                        "seccompProfile": {"type": STR, "localhostProfile": STR}},
    "volumes": [{
        "name": STR,
        "hostPath": {"path": STR, "type": STR},
        "configMap": {"name": STR, "defaultMode": INT, "optional": BOOL},
        "emptyDir": {"medium": STR, "sizeLimit": QTY},
    }],
}
KINDS = {
    ("v1", "Namespace"): {"metadata": META},
    ("v1", "ConfigMap"): {"metadata": META, "data": LABELS, "immutable": BOOL},
    ("v1", "Pod"): {"metadata": META, "spec": POD_SPEC},
    ("apps/v1", "DaemonSet"): {
        "metadata": META,
        "spec": {
            "selector": SELECTOR,
            "template": {"metadata": META, "spec": POD_SPEC},
            "updateStrategy": {"type": STR, "rollingUpdate": {
                "maxUnavailable": QTY, "maxSurge": QTY}},
            "minReadySeconds": INT,
            "revisionHistoryLimit": INT,
        },
    },
}
# What a scheduler needs, measured by tests/vm/t-caps.sh; the runtime's
# default capabilities are dropped, so these are all it gets.
CAPS = {"BPF", "PERFMON"}
HOST_PATHS = ("/sys/kernel/sched_ext", "/var/run/scx")
PRESTOP = ["/usr/sbin/czctl", "stop", "--container"]
NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE_RE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
QTY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti|%)?$")


def typecheck(v, spec, path, errs):
    """Append "PATH: problem" for each field of v that spec does not allow."""
    if isinstance(spec, list):
        if not isinstance(v, list):
            errs.append(f"{path}: not a list")
            return
        for i, e in enumerate(v):
            typecheck(e, spec[0], f"{path}[{i}]", errs)
    elif isinstance(spec, dict):
        if not isinstance(v, dict):
            errs.append(f"{path}: not a mapping")
            return
        for k, e in v.items():
            if k not in spec:
                errs.append(f"{path}.{k}: unknown field")
            else:
                typecheck(e, spec[k], f"{path}.{k}", errs)
    elif spec == STR and not isinstance(v, str):
        errs.append(f"{path}: not a string ({v!r})")
    elif spec == INT and (isinstance(v, bool) or not isinstance(v, int)):
        errs.append(f"{path}: not an integer ({v!r})")
    elif spec == BOOL and not isinstance(v, bool):
        errs.append(f"{path}: not a boolean ({v!r})")
    elif spec == LABELS and not (isinstance(v, dict) and
                                 all(isinstance(x, str) for x in v.values())):
        errs.append(f"{path}: not a mapping of strings")
    elif spec == QTY and not ((isinstance(v, int) and not isinstance(v, bool)) or
                              (isinstance(v, str) and QTY_RE.match(v))):
        errs.append(f"{path}: not a quantity ({v!r})")


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
    except (OSError, yaml.YAMLError) as e:
        print(f"{path}: {' '.join(str(e).split())}", file=sys.stderr)
        sys.exit(2)
    return docs


def check_daemonset(ds, docs, args, errs):
    """The controlzone-specific rules for a scheduler DaemonSet."""
    spec = ds.get("spec", {})
    tmpl = spec.get("template", {})
    pod = tmpl.get("spec", {})
    ns = ds.get("metadata", {}).get("namespace", "default")

    ml = spec.get("selector", {}).get("matchLabels") or {}
    tl = tmpl.get("metadata", {}).get("labels") or {}
    if not ml:
        errs.append("spec.selector.matchLabels: missing or empty")
    for k, v in ml.items():
        if tl.get(k) != v:
            errs.append(f"spec.selector.matchLabels.{k}: not a label of the pod template")

    sched = (pod.get("nodeSelector") or {}).get("controlzone.io/scheduler")
    if sched is None:
        errs.append("spec.template.spec.nodeSelector: no controlzone.io/scheduler")
    elif sched not in args.schedulers or not LABEL_VALUE_RE.match(sched):
        errs.append(f"spec.template.spec.nodeSelector.controlzone.io/scheduler: "
                    f"'{sched}' is not a scheduler ({', '.join(args.schedulers)})")
    if pod.get("hostPID") is not True:
        errs.append("spec.template.spec.hostPID: must be true")
    if pod.get("restartPolicy", "Always") != "Always":
        errs.append("spec.template.spec.restartPolicy: a DaemonSet's must be Always")
    g = pod.get("terminationGracePeriodSeconds")
    if not isinstance(g, int) or isinstance(g, bool) or not 1 <= g <= 300:
        errs.append(f"spec.template.spec.terminationGracePeriodSeconds: "
                    f"must be 1-300 seconds (got {g!r})")

    cs = pod.get("containers") or []
    if len(cs) != 1:
        errs.append(f"spec.template.spec.containers: must be exactly one (got {len(cs)})")
        return
    c = cs[0]
    p = "spec.template.spec.containers[0]"
    # The shipped name, or the same under a registry (REGISTRY/controlzone/...).
    want = f"controlzone/{sched}:{args.version}"
    img = str(c.get("image"))
    if img != want and not img.endswith("/" + want):
        errs.append(f"{p}.image: must be [REGISTRY/]{want} (got {c.get('image')!r})")
    sc = c.get("securityContext") or {}
    if sc.get("privileged") is True:
        errs.append(f"{p}.securityContext.privileged: must not be true")
    def cap_set(key):
        return {x[4:] if str(x).startswith("CAP_") else x
                for x in (sc.get("capabilities") or {}).get(key) or []}
    caps = cap_set("add")
    if "ALL" not in cap_set("drop"):
        errs.append(f"{p}.securityContext.capabilities.drop: must include ALL "
                    f"(the runtime's defaults are not needed)")
    if caps != CAPS:
        errs.append(f"{p}.securityContext.capabilities.add: must be exactly "
                    f"{', '.join(sorted(CAPS))} (got {', '.join(sorted(map(str, caps))) or 'none'})")

    # The preStop hook that detaches: czctl in the image, stopping this
    # container's own loader (czctl stop --container).
    hook = (((c.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command")
    if hook != PRESTOP:
        errs.append(f"{p}.lifecycle.preStop.exec.command: must be {PRESTOP} (got {hook!r})")

    vols = {v.get("name"): v for v in pod.get("volumes") or []}
    mounts = {m.get("mountPath"): m for m in c.get("volumeMounts") or []}
    for m in mounts.values():
        if m.get("name") not in vols:
            errs.append(f"{p}.volumeMounts: '{m.get('name')}' is not a volume")
    for hp in HOST_PATHS:
        m = mounts.get(hp)
        v = vols.get(m.get("name")) if m else None
        if not v or (v.get("hostPath") or {}).get("path") != hp:
            errs.append(f"{p}.volumeMounts: {hp} is not mounted from the host's {hp}")

    envs = {e.get("name"): e for e in c.get("env") or []}
    for a in (c.get("command") or []) + (c.get("args") or []):
        for var in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", str(a)):
            if var not in envs:
                errs.append(f"{p}.args: $({var}) is not in env")
    cms = {(d["metadata"].get("namespace", "default"), d["metadata"].get("name")): d
           for d in docs if d.get("kind") == "ConfigMap" and isinstance(d.get("metadata"), dict)}
    for name, e in envs.items():
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if not ref:
            continue
        cm = cms.get((ns, ref.get("name")))
        if cm is None:
            errs.append(f"{p}.env.{name}: ConfigMap '{ref.get('name')}' is not in the file")
        elif ref.get("key") not in (cm.get("data") or {}):
            errs.append(f"{p}.env.{name}: ConfigMap '{ref.get('name')}' has no key '{ref.get('key')}'")

    helptext = open(args.help_file, encoding="utf-8").read()
    known = set(re.findall(r"(--[a-z][a-z0-9-]*)", helptext))
    for a in c.get("args") or []:
        m = re.match(r"^(--[a-z][a-z0-9-]*)", str(a))
        if m and m.group(1) not in known:
            errs.append(f"{p}.args: {m.group(1)} is not an option of {sched}")
    if c.get("command"):
        errs.append(f"{p}.command: must be unset (the image's entrypoint is the scheduler)")


def cmd_check(args):
    docs = load(args.file)
    problems = 0
    n_ds = 0
    for i, d in enumerate(docs):
        where = f"document {i + 1}"
        errs = []
        if not isinstance(d, dict):
            print(f"{args.file}: {where}: not a mapping")
            problems += 1
            continue
        key = (d.get("apiVersion"), d.get("kind"))
        meta = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
        where = f"{d.get('kind')}/{meta.get('name')}"
        if key not in KINDS:
            errs.append(f"apiVersion/kind: {key[0]}/{key[1]} is not one this check knows")
        else:
            body = {k: v for k, v in d.items() if k not in ("apiVersion", "kind")}
            typecheck(body, KINDS[key], "", errs)
            errs = [e.lstrip(".") for e in errs]
            name = meta.get("name")
            if not isinstance(name, str) or not NAME_RE.match(name) or len(name) > 253:
                errs.append(f"metadata.name: not a DNS-1123 name ({name!r})")
            if key[1] == "DaemonSet":
                n_ds += 1
                try:
                    check_daemonset(d, docs, args, errs)
                except (AttributeError, TypeError, KeyError) as e:
                    errs.append(f"the scheduler checks could not read it ({e})")
        for e in errs:
            print(f"{args.file}: {where}: {e}")
        problems += len(errs)
    if n_ds == 0 and problems == 0:
        print(f"{args.file}: no DaemonSet")
        problems += 1
    if problems:
        return 1
    print(f"ok: {args.file}: {len(docs)} documents, {n_ds} DaemonSet")
    return 0


def cmd_pod(args):
    docs = load(args.file)
    ds = [d for d in docs if isinstance(d, dict) and d.get("kind") == "DaemonSet"]
    if len(ds) != 1:
        print(f"{args.file}: expected one DaemonSet, found {len(ds)}", file=sys.stderr)
        return 1
    tmpl = copy.deepcopy(ds[0]["spec"]["template"])
    spec = tmpl["spec"]
    spec["restartPolicy"] = "Never"
    spec.pop("nodeSelector", None)
    spec.pop("tolerations", None)
    c = spec["containers"][0]
    c["image"] = args.image
    if args.args is not None:
        c["args"] = [a for a in args.args.split(",") if a]
    for m in c.get("volumeMounts") or []:
        mp = m.get("mountPath", "")
        if mp.startswith("/sys/") and not os.path.exists(mp):
            m["mountPath"] = "/host" + mp
            print(f"kube-check.py: {mp} is not on this host: mounted at /host{mp}",
                  file=sys.stderr)
    for v in spec.get("volumes") or []:
        if "hostPath" in v:
            v["hostPath"] = {"path": args.host_root.rstrip("/") + v["hostPath"]["path"],
                             "type": "DirectoryOrCreate"}
    used = {(e.get("valueFrom") or {}).get("configMapKeyRef", {}).get("name")
            for e in c.get("env") or []}
    data = {}
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "ConfigMap":
            data[d["metadata"].get("name")] = d.get("data") or {}
    env = {}
    for e in c.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        if ref:
            val = data.get(ref.get("name"), {}).get(ref.get("key"))
            if val is not None:
                env[e["name"]] = val
        elif "value" in e:
            env[e["name"]] = e["value"]

    def expand(a):
        # $(VAR) -> its value when defined, $$ -> $ (the kubelet's rules).
        return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                      lambda m: "$" if m.group(0) == "$$"
                      else env.get(m.group(1), m.group(0)), a)
    c["args"] = [expand(a) for a in c.get("args") or []]
    out = [d for d in docs if isinstance(d, dict) and d.get("kind") == "ConfigMap"
           and d["metadata"].get("name") in used]
    for d in out:
        d["metadata"].pop("namespace", None)
    out.append({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": args.name, "labels": tmpl["metadata"].get("labels", {})},
                "spec": spec})
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)
    return 0


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"kube-check.py: {message} (see the header of {sys.argv[0]})", file=sys.stderr)
        sys.exit(2)


def main():
    ap = Parser(add_help=False)
    sub = ap.add_subparsers(dest="cmd", required=True, parser_class=Parser)
    c = sub.add_parser("check", add_help=False)
    c.add_argument("file")
    c.add_argument("--version", required=True)
    c.add_argument("--schedulers", required=True, type=lambda s: s.split(","))
    c.add_argument("--help-file", required=True)
    p = sub.add_parser("pod", add_help=False)
    p.add_argument("file")
    p.add_argument("--name", required=True)
    p.add_argument("--image", required=True)
    p.add_argument("--host-root", required=True)
    p.add_argument("--args")
    args = ap.parse_args()
    return cmd_check(args) if args.cmd == "check" else cmd_pod(args)


if __name__ == "__main__":
    sys.exit(main())
