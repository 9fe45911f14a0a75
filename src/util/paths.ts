// Folder containment shared by every place that lets a caller near files: reading Messages attachments and
// choosing files to send. Symlinks are resolved before a path is judged, so a link planted inside an
// allowed folder cannot lead out of it.
import { realpath } from "node:fs/promises";
import { sep } from "node:path";

/**
 * Whether the absolute, normalised `candidate` lies strictly inside `root`. The folder itself does not
 * count (it is never a file to read or send), nor does a sibling sharing its prefix ("/a/bc" is not in "/a/b").
 */
export function isInside(candidate: string, root: string): boolean {
  const prefix = root.endsWith(sep) ? root : `${root}${sep}`;
  return candidate.startsWith(prefix);
}

/** Whether `candidate` lies inside any of `roots`. */
export function isInsideAny(candidate: string, roots: readonly string[]): boolean {
  return roots.some((root) => isInside(candidate, root));
}

/** The real paths of `roots` with symlinks resolved; roots that do not exist (or cannot be read) are left out. */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  const resolved = await Promise.all(roots.map((root) => realpath(root).catch(() => null)));
  return resolved.filter((root): root is string => root !== null);
}
