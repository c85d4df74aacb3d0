// The deterministic simulator as part of the suite: 1,000 seeded schedules of 5
// members must show no safety violation and must converge after healing.
import t from 'tap';
import { scheduleTest } from './seeds.js';

void scheduleTest(t, 5);
