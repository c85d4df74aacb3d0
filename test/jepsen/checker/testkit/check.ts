// Shortcuts for tests: check register specs in one call.

import { checkHistory } from '../check.js';
import type { CheckOptions, CheckResult } from '../check.js';
import { multiRegisterModel, registerModel } from '../register.js';
import type { KeyedRegisterInput, RegisterInput, RegisterOutput } from '../register.js';
import { buildHistory } from './build.js';
import type { Spec } from './build.js';

export function checkRegister(specs: readonly Spec<RegisterInput, RegisterOutput>[], options?: CheckOptions): CheckResult<RegisterInput, RegisterOutput> {
  return checkHistory(registerModel(), buildHistory(specs), options);
}

export function checkKeyed(specs: readonly Spec<KeyedRegisterInput, RegisterOutput>[], options?: CheckOptions): CheckResult<KeyedRegisterInput, RegisterOutput> {
  return checkHistory(multiRegisterModel(), buildHistory(specs), options);
}
