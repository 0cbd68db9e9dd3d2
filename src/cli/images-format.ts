/** The images of a hop as `plan` shows them: one line each, with where it is used. */
import type { Hop } from '../engine/types.ts';

export function formatHopImages(hop: Hop): string[] {
  const im = hop.images;
  if (!im) return [];
  if (im.problem) return [`  Images: not listed (${im.problem}); the image check of preflight cannot check this hop`];
  const width = Math.max(...im.images.map((u) => u.image.length));
  return [
    `  Images (${im.images.length}, from ${im.source}):`,
    ...im.images.map((u) => `    ${u.image.padEnd(width)}  ${u.uses.join(', ')}`),
  ];
}
