/* insn_mix.S - one pass over many Thumb-2 encodings with a known class for each, for the TCG
 * plugin test (tests/test_qemu.py::test_plugin_classes_many_encodings). Counted from entry to
 * kws_mark_start2 to entry to kws_mark_end2; the class of each line is in its comment.
 * SPDX-License-Identifier: Apache-2.0 */
  .syntax unified
  .thumb
  .text
  .global kws_insn_mix
  .type kws_insn_mix, %function
  .thumb_func
kws_insn_mix:
  push {r4, r5, r6, lr}
  bl kws_mark_start2          @ (kws_mark_start2's BX LR: branch)
  sub sp, sp, #16             @ other
  movs r0, #0                 @ other
  cbz r0, 1f                  @ branch (taken)
  nop                         @ (skipped)
1:
  cbnz r0, 2f                 @ other (not taken)
  mov r3, sp                  @ other
  ldmia r3!, {r1, r2}         @ ldst
  stmia r3!, {r1, r2}         @ ldst
  ldrd r1, r2, [sp]           @ ldst
  strb r1, [sp, #8]           @ ldst
  ldrh.w r4, [sp, #2]         @ ldst
  vldr s0, [sp]               @ ldst
  vstr s0, [sp, #4]           @ ldst
  vpush {s0}                  @ ldst
  vpop {s0}                   @ ldst
  vmla.f32 s0, s1, s2         @ mul
  vfma.f32 s0, s1, s2         @ mul
  vmul.f32 s0, s1, s2         @ mul
  vnmul.f32 s0, s1, s2        @ mul
  vadd.f32 s0, s1, s2         @ other
  vmov s3, r1                 @ other
  muls r1, r2, r1             @ mul
  smull r1, r2, r3, r4        @ mul
  smlal r1, r2, r3, r4        @ mul
  smulbb r1, r2, r3           @ mul
  movs r1, #7                 @ other
  movs r2, #2                 @ other
  sdiv r1, r1, r2             @ div
  udiv r1, r1, r2             @ div
  vsqrt.f32 s0, s1            @ div
  cmp r1, #1                  @ other
  it eq                       @ other
  moveq r1, #5                @ other (counted whether or not it executes)
  beq 2f                      @ branch (r1 = 1 -> taken)
  nop                         @ (skipped)
2:
  cmp r1, #100                @ other
  bhi.w 3f                    @ other (not taken)
  movs r0, #1                 @ other
  tbb [pc, r0]                @ ldst base class; taken -> branch
4:
  .byte (5f - 4b) / 2
  .byte (6f - 4b) / 2
  .align 1
5:
  nop                         @ (skipped)
6:
  b.w 7f                      @ branch
3:
  nop                         @ (skipped)
7:
  add sp, sp, #16             @ other
  bl kws_mark_end2            @ branch
  pop {r4, r5, r6, pc}
  .size kws_insn_mix, . - kws_insn_mix
