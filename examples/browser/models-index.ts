/** What the demo pages share about the served `models/` folder. */

/** The model folders the server lists in `<modelBaseUrl>/index.json`, best first (none when it has no index). */
export async function availableModels(modelBaseUrl: string): Promise<string[]> {
  try {
    const res = await fetch(new URL('index.json', modelBaseUrl));
    if (!res.ok) return [];
    const body = (await res.json()) as { models?: unknown };
    return Array.isArray(body.models) ? body.models.filter((m): m is string => typeof m === 'string') : [];
  } catch {
    return [];
  }
}
