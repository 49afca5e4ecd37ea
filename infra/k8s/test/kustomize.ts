// The part of kustomize that infra/k8s uses, so that the test sees what `kubectl apply -k` applies
// without a kubectl on the machine: resources (files and kustomization folders), namespace,
// configMapGenerator/secretGenerator (files, envs, literals; a content hash appended to the name
// and every reference to it rewritten), images, and patches as strategic-merge patches.
// Strategic merge here: maps merge key by key, `null` deletes a key, the lists Kubernetes merges by
// key (containers, initContainers, volumes, env, ports, volumeMounts) merge by that key, every
// other list is replaced. Anything else in a kustomization.yaml is refused, so a manifest cannot
// use a feature that this test would silently ignore.
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";

/** A part of a manifest: untyped YAML until validated. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML until validated
export type Untyped = Record<string, any>;
export type K8sObject = Untyped & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export interface RenderOptions {
  /** Contents to read instead of the file at an absolute path (e.g. secrets written to a temp folder). */
  files?: Map<string, string>;
}

const KNOWN_FIELDS = new Set([
  "apiVersion",
  "kind",
  "namespace",
  "resources",
  "configMapGenerator",
  "secretGenerator",
  "images",
  "patches",
]);
const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "PriorityClass"]);
/** Merge keys of the lists strategic merge merges by key (the rest are replaced). */
const MERGE_KEYS: Record<string, string> = {
  containers: "name",
  initContainers: "name",
  volumes: "name",
  env: "name",
  volumeMounts: "mountPath",
  ports: "containerPort",
};

interface Generated {
  kind: "ConfigMap" | "Secret";
  baseName: string;
  name: string;
}

export function render(dir: string, opts: RenderOptions = {}): K8sObject[] {
  const generated: Generated[] = [];
  const objects = build(path.resolve(dir), opts, generated);
  for (const obj of objects) rewriteReferences(obj, generated);
  return objects;
}

function read(file: string, opts: RenderOptions): string {
  const override = opts.files?.get(file);
  if (override !== undefined) return override;
  if (!existsSync(file)) throw new Error(`${file}: no such file (kustomize would fail the same way)`);
  return readFileSync(file, "utf8");
}

export function parseYaml(text: string, source: string): K8sObject[] {
  return parseAllDocuments(text).flatMap((doc) => {
    if (doc.errors.length) throw new Error(`${source}: ${doc.errors[0]?.message}`);
    const value = doc.toJS() as K8sObject | null;
    return value ? [value] : [];
  });
}

function build(dir: string, opts: RenderOptions, generated: Generated[]): K8sObject[] {
  const kfile = path.join(dir, "kustomization.yaml");
  const [k] = parseYaml(read(kfile, opts), kfile);
  if (!k) throw new Error(`${kfile}: empty`);
  for (const field of Object.keys(k)) if (!KNOWN_FIELDS.has(field)) throw new Error(`${kfile}: ${field} is not supported by this renderer`);

  let objects: K8sObject[] = [];
  for (const res of (k.resources ?? []) as string[]) {
    const p = path.resolve(dir, res);
    if (existsSync(p) && statSync(p).isDirectory()) objects.push(...build(p, opts, generated));
    else objects.push(...parseYaml(read(p, opts), p));
  }
  for (const [kind, list] of [
    ["ConfigMap", k.configMapGenerator],
    ["Secret", k.secretGenerator],
  ] as const) {
    for (const gen of (list ?? []) as Array<Record<string, unknown>>) objects.push(generate(kind, gen, dir, opts, generated));
  }
  for (const patch of (k.patches ?? []) as Array<{ path?: string }>) {
    if (!patch.path) throw new Error(`${kfile}: only file patches (path:) are supported`);
    const file = path.resolve(dir, patch.path);
    for (const p of parseYaml(read(file, opts), file)) {
      const target = objects.find((o) => o.kind === p.kind && o.metadata.name === p.metadata.name);
      if (!target) throw new Error(`${file}: no ${p.kind} ${p.metadata.name} to patch`);
      objects = objects.map((o) => (o === target ? (strategicMerge(o, p) as K8sObject) : o));
    }
  }
  for (const image of (k.images ?? []) as Array<{ name: string; newName?: string; newTag?: string; digest?: string }>) {
    for (const obj of objects) {
      for (const c of podContainers(obj)) {
        const { name } = splitImage(c.image);
        if (name !== image.name) continue;
        const tag = splitImage(c.image).tag;
        const newName = image.newName ?? name;
        c.image = image.digest ? `${newName}@${image.digest}` : `${newName}${image.newTag ? `:${image.newTag}` : tag ? `:${tag}` : ""}`;
      }
    }
  }
  if (k.namespace) for (const obj of objects) if (!CLUSTER_SCOPED.has(obj.kind)) obj.metadata.namespace = k.namespace;
  return objects;
}

function generate(
  kind: "ConfigMap" | "Secret",
  gen: Record<string, unknown>,
  dir: string,
  opts: RenderOptions,
  generated: Generated[],
): K8sObject {
  const data: Record<string, string> = {};
  for (const entry of (gen.files ?? []) as string[]) {
    const [key, rel] = entry.includes("=") ? (entry.split("=", 2) as [string, string]) : [path.basename(entry), entry];
    data[key] = read(path.resolve(dir, rel), opts);
  }
  for (const rel of (gen.envs ?? []) as string[]) {
    const file = path.resolve(dir, rel);
    for (const line of read(file, opts).split("\n")) {
      if (!line.trim() || line.trimStart().startsWith("#")) continue;
      const eq = line.indexOf("=");
      if (eq <= 0) throw new Error(`${file}: not KEY=VALUE: ${line.slice(0, 20)}…`);
      data[line.slice(0, eq)] = line.slice(eq + 1);
    }
  }
  for (const literal of (gen.literals ?? []) as string[]) {
    const eq = literal.indexOf("=");
    data[literal.slice(0, eq)] = literal.slice(eq + 1);
  }
  const baseName = String(gen.name);
  // kustomize hashes the object with its own encoding; any content hash gives the same behaviour
  // (a changed value renames the object and so rolls the pods that reference it).
  const hash = createHash("sha256")
    .update(JSON.stringify([kind, baseName, data]))
    .digest("hex")
    .slice(0, 10);
  const name = `${baseName}-${hash}`;
  generated.push({ kind, baseName, name });
  const metadata = { name };
  if (kind === "Secret") {
    const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")]));
    return { apiVersion: "v1", kind, type: "Opaque", metadata, data: encoded };
  }
  return { apiVersion: "v1", kind, metadata, data };
}

function splitImage(image: string): { name: string; tag?: string } {
  const at = image.indexOf("@");
  const ref = at >= 0 ? image.slice(0, at) : image;
  const colon = ref.lastIndexOf(":");
  if (colon > ref.lastIndexOf("/")) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref };
}

export function podSpec(obj: K8sObject): Untyped | undefined {
  if (obj.kind === "Pod") return obj.spec;
  if (obj.kind === "CronJob") return obj.spec?.jobTemplate?.spec?.template?.spec;
  return obj.spec?.template?.spec;
}

export function podContainers(obj: K8sObject): Untyped[] {
  const spec = podSpec(obj);
  return spec ? [...(spec.initContainers ?? []), ...(spec.containers ?? [])] : [];
}

/** Points every ConfigMap/Secret reference in a pod spec at the generated (hashed) name. */
function rewriteReferences(obj: K8sObject, generated: Generated[]): void {
  const spec = podSpec(obj);
  if (!spec) return;
  const rename = (
    kind: Generated["kind"],
    ref: { name?: string; secretName?: string } | undefined,
    field: "name" | "secretName" = "name",
  ) => {
    if (!ref?.[field]) return;
    const g = generated.find((x) => x.kind === kind && x.baseName === ref[field]);
    if (g) ref[field] = g.name;
  };
  for (const c of podContainers(obj)) {
    for (const e of c.envFrom ?? []) {
      rename("ConfigMap", e.configMapRef);
      rename("Secret", e.secretRef);
    }
    for (const e of c.env ?? []) {
      rename("ConfigMap", e.valueFrom?.configMapKeyRef);
      rename("Secret", e.valueFrom?.secretKeyRef);
    }
  }
  for (const v of spec.volumes ?? []) {
    rename("ConfigMap", v.configMap);
    rename("Secret", v.secret, "secretName");
    for (const s of v.projected?.sources ?? []) {
      rename("ConfigMap", s.configMap);
      rename("Secret", s.secret);
    }
  }
}

export function strategicMerge(base: unknown, patch: unknown, key?: string): unknown {
  if (Array.isArray(patch)) {
    // A Service's ports merge by `port`, a container's by `containerPort`.
    const mergeKey =
      key === "ports" && !(patch as Untyped[]).every((p) => "containerPort" in p) ? "port" : key ? MERGE_KEYS[key] : undefined;
    if (!mergeKey || !Array.isArray(base)) return structuredClone(patch);
    const out = structuredClone(base) as Array<Record<string, unknown>>;
    for (const item of patch as Array<Record<string, unknown>>) {
      const i = out.findIndex((x) => x[mergeKey] === item[mergeKey]);
      if (i >= 0) out[i] = strategicMerge(out[i], item) as Record<string, unknown>;
      else out.push(structuredClone(item));
    }
    return out;
  }
  if (patch && typeof patch === "object") {
    const out: Record<string, unknown> =
      base && typeof base === "object" && !Array.isArray(base) ? structuredClone(base as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete out[k];
      else out[k] = strategicMerge(out[k], v, k);
    }
    return out;
  }
  return patch;
}
