/** The time grains every metric is rolled up and served at, and their lengths. */
export type Grain = 'minute' | 'hour' | 'day';

export const GRAIN_MS: Record<Grain, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
