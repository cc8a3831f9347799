/**
 * The names of the pretrained teachers ({@link loadPretrainedTeacher}), in a module without TF.js: `Student.load`
 * tests a name against them on every load, including loads that never touch TF.js.
 */

/**
 * Pretrained teachers {@link loadPretrainedTeacher} knows.
 *
 * @example
 * ```ts
 * const name: PretrainedTeacherName = 'esrgan-slim';
 * const teacher = await loadPretrainedTeacher(name, { scale: 4 });
 * ```
 */
export type PretrainedTeacherName = 'emt-x2' | 'emt-x3' | 'emt-x4' | 'esrgan-slim' | 'esrgan-medium' | 'esrgan-thick';

/**
 * Every name {@link loadPretrainedTeacher} knows.
 *
 * @example
 * ```ts
 * PRETRAINED_TEACHERS.includes('emt-x4'); // true
 * ```
 */
export const PRETRAINED_TEACHERS: readonly PretrainedTeacherName[] = ['emt-x2', 'emt-x3', 'emt-x4', 'esrgan-slim', 'esrgan-medium', 'esrgan-thick'];

/** True for a name {@link loadPretrainedTeacher} knows. */
export function isPretrainedTeacher(name: string): name is PretrainedTeacherName {
  return (PRETRAINED_TEACHERS as readonly string[]).includes(name);
}
