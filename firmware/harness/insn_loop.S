/* insn_loop.S - a loop with a known instruction count, per class, for the TCG plugin test.
 * SPDX-License-Identifier: Apache-2.0
 *
 * kws_insn_loop(n): counted from entry to kws_mark_start up to entry to kws_mark_end:
 *   kws_mark_start's BX LR                    1 taken branch
 *   mov r0, r4                                1 other
 *   per iteration (n times): ldr, str         2 load/store
 *                            mul, smlad       2 multiply
 *                            vdiv, vsqrt      2 div/sqrt
 *                            subs             1 other
 *                            bne              1 taken branch (n-1 times), 1 other (last)
 *   bl kws_mark_end                           1 taken branch
 * total = 8n + 3: load/store 2n, mul 2n, div 2n, taken branch n+1, other n+2
 */
  .syntax unified
  .thumb
  .text
  .global kws_insn_loop
  .type kws_insn_loop, %function
  .thumb_func
kws_insn_loop:
  push {r4, r5, lr}
  sub sp, sp, #8
  mov r4, r0
  vmov.f32 s0, #1.0
  vmov.f32 s1, #2.0
  bl kws_mark_start
  mov r0, r4
1:
  ldr r1, [sp]
  str r1, [sp, #4]
  mul r2, r1, r1
  smlad r3, r1, r1, r3
  vdiv.f32 s2, s0, s1
  vsqrt.f32 s3, s1
  subs r0, r0, #1
  bne 1b
  bl kws_mark_end
  add sp, sp, #8
  pop {r4, r5, pc}
  .size kws_insn_loop, . - kws_insn_loop
