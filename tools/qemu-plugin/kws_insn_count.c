/*
 * kws_insn_count.c - QEMU TCG plugin: counts guest instructions executed between marker
 * addresses, by instruction class (Thumb-2, Armv7E-M + FPv4-SP).
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * Usage (one vCPU, e.g. qemu-system-arm -M mps2-an386):
 *   -plugin kws_insn_count.so,pair=0xSTART:0xEND[,pair=...],out=report.txt
 *
 * For every pair, an interval opens when the vCPU is about to execute the instruction at START
 * (the marker's first instruction is counted) and closes when it is about to execute the
 * instruction at END (not counted). Every interval is reported on its own line, in order:
 *   interval pair=<i> index=<k> total=<n> ldst=<n> mul=<n> branch=<n> div=<n> other=<n>
 * Pairs are independent: intervals of different pairs may overlap; an instruction counts in
 * every open interval. A START met while the pair is open restarts it (counted in the
 * "restarts=" line at the end); intervals still open at exit are not reported.
 *
 * Classes (each executed instruction lands in exactly one):
 *   ldst    loads and stores: LDR/STR (all sizes, literal, dual, exclusive), LDM/STM, PUSH/POP,
 *           VLDR/VSTR/VLDM/VSTM/VPUSH/VPOP, PLD
 *   mul     integer multiply and multiply-accumulate (MUL, MLA, MLS, SMLA*, SMLAD, SMUAD,
 *           SMULL, SMLAL*, SMMUL, SMMLA, USAD8, ...) and VFP multiply/MAC (VMUL, VNMUL,
 *           VMLA, VMLS, VNMLA, VNMLS, VFMA, VFMS, VFNMA, VFNMS)
 *   branch  taken branches: a branch-capable instruction (B, Bcond, BL, BLX, BX, CBZ/CBNZ,
 *           TBB/TBH, POP/LDM with PC, LDR PC, MOV/ADD PC) followed by an instruction that is
 *           not the next one in memory
 *   div     VFP divide and square root (VDIV.F32, VSQRT.F32) and integer SDIV/UDIV
 *   other   everything else, including branches that were not taken
 * Approximations: an instruction skipped by an IT block is counted (the M4 also spends a
 * cycle on it); an interrupt taken right after a branch-capable instruction makes that
 * instruction count as a taken branch; exception entry/exit work and the handlers' own
 * instructions are counted while an interval is open. This is an instruction count, not a
 * cycle count: the M4 spends 1-3 cycles per load, 2-4 per taken branch, 14 per VDIV/VSQRT.
 */
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qemu-plugin.h>

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

enum { CLS_LDST, CLS_MUL, CLS_BRANCH, CLS_DIV, CLS_OTHER, N_CLS };
static const char *const cls_names[N_CLS] = {"ldst", "mul", "branch", "div", "other"};

typedef struct {
  uint64_t vaddr;
  uint32_t size;
  uint8_t cls;         /* class when not a taken branch */
  uint8_t may_branch;  /* can change the flow of control */
} insn_info;

typedef struct {
  uint64_t start, end;
  int open;
  uint64_t counts[N_CLS];
  uint64_t index;     /* intervals completed so far */
  uint64_t restarts;
} pair_state;

typedef struct {
  unsigned pair;
  uint64_t index;
  uint64_t counts[N_CLS];
} interval_rec;

static pair_state *pairs;
static unsigned n_pairs;
static GArray *records;
static char *out_path;
static const insn_info *prev; /* the last executed instruction (single vCPU) */
static unsigned n_open;
static GMutex lock;

/* ---- Thumb-2 decoding (ARM DDI 0403E, A5.2/A5.3) --------------------------------------- */
static void classify16(uint32_t hw, insn_info *ii) {
  ii->cls = CLS_OTHER;
  ii->may_branch = 0;
  if ((hw & 0xF800u) == 0x4800u ||            /* LDR (literal) */
      (hw & 0xF000u) == 0x5000u ||            /* LDR/STR (register) */
      (hw & 0xE000u) == 0x6000u ||            /* LDR/STR(B) (immediate) */
      (hw & 0xF000u) == 0x8000u ||            /* LDRH/STRH (immediate) */
      (hw & 0xF000u) == 0x9000u ||            /* LDR/STR (SP-relative) */
      (hw & 0xF000u) == 0xC000u) {            /* LDM/STM */
    ii->cls = CLS_LDST;
  } else if ((hw & 0xFE00u) == 0xB400u) {     /* PUSH */
    ii->cls = CLS_LDST;
  } else if ((hw & 0xFE00u) == 0xBC00u) {     /* POP */
    ii->cls = CLS_LDST;
    ii->may_branch = (hw & 0x0100u) != 0u;    /* POP {..., pc} */
  } else if ((hw & 0xFFC0u) == 0x4340u) {     /* MULS */
    ii->cls = CLS_MUL;
  } else if ((hw & 0xF000u) == 0xD000u) {     /* B<cond>; 1110 = UDF, 1111 = SVC */
    ii->may_branch = (hw & 0x0E00u) != 0x0E00u;
  } else if ((hw & 0xF800u) == 0xE000u ||     /* B */
             (hw & 0xFF00u) == 0x4700u ||     /* BX, BLX (register) */
             (hw & 0xF500u) == 0xB100u) {     /* CBZ, CBNZ */
    ii->may_branch = 1;
  } else if ((hw & 0xFD87u) == 0x4487u) {     /* ADD/MOV pc, Rm (Rdn = 15) */
    ii->may_branch = 1;
  }
}

static void classify32(uint32_t hw1, uint32_t hw2, insn_info *ii) {
  ii->cls = CLS_OTHER;
  ii->may_branch = 0;
  const uint32_t rt = hw2 >> 12;
  if ((hw1 & 0xFE40u) == 0xE800u) {                  /* LDM/STM (incl. PUSH.W/POP.W) */
    ii->cls = CLS_LDST;
    ii->may_branch = (hw1 & 0x0010u) != 0u && (hw2 & 0x8000u) != 0u; /* LDM with pc */
  } else if ((hw1 & 0xFE40u) == 0xE840u) {           /* LDRD/STRD, LDREX/STREX, TBB/TBH */
    if ((hw1 & 0xFFF0u) == 0xE8D0u && (hw2 & 0xFFE0u) == 0xF000u) {
      ii->cls = CLS_LDST;                             /* TBB/TBH: a table load, then jump */
      ii->may_branch = 1;
    } else {
      ii->cls = CLS_LDST;
    }
  } else if ((hw1 & 0xFE00u) == 0xF800u) {           /* single loads/stores, PLD */
    ii->cls = CLS_LDST;
    ii->may_branch = (hw1 & 0x0010u) != 0u && rt == 15u && (hw1 & 0x0060u) == 0x0040u; /* LDR pc */
  } else if ((hw1 & 0xFF80u) == 0xFB80u) {           /* long multiply, SDIV/UDIV */
    const uint32_t op1 = (hw1 >> 4) & 7u, op2 = (hw2 >> 4) & 0xFu;
    ii->cls = ((op1 == 1u || op1 == 3u) && op2 == 0xFu) ? CLS_DIV : CLS_MUL;
  } else if ((hw1 & 0xFF80u) == 0xFB00u) {           /* multiply, MAC, dual 16-bit MAC */
    ii->cls = CLS_MUL;
  } else if ((hw1 & 0xEE00u) == 0xEC00u && (hw2 & 0x0E00u) == 0x0A00u &&
             (hw1 & 0x01E0u) != 0x0040u && (hw1 & 0x01A0u) != 0u) {
    ii->cls = CLS_LDST;                               /* VLDR/VSTR/VLDM/VSTM/VPUSH/VPOP */
  } else if ((hw1 & 0xEF00u) == 0xEE00u && (hw2 & 0x0E10u) == 0x0A00u) {
    /* VFP data processing: opc1 = hw1[7:4] without D (bit 6), opc3 bit = hw2[6] */
    const uint32_t opc1 = (hw1 >> 4) & 0xBu;
    const uint32_t opc2 = hw1 & 0xFu;
    const uint32_t opc3 = (hw2 >> 6) & 1u;
    if (opc1 == 0x8u && opc3 == 0u) {
      ii->cls = CLS_DIV;                              /* VDIV */
    } else if (opc1 == 0xBu && opc2 == 0x1u && opc3 == 1u && (hw2 & 0x0080u) != 0u) {
      ii->cls = CLS_DIV;                              /* VSQRT */
    } else if (opc1 == 0x0u || opc1 == 0x1u || opc1 == 0x2u || opc1 == 0x9u || opc1 == 0xAu) {
      ii->cls = CLS_MUL;                              /* VMLA/VMLS, VNMLA/VNMLS, VMUL/VNMUL, VFNMA/VFNMS, VFMA/VFMS */
    }
  } else if ((hw1 & 0xF800u) == 0xF000u && (hw2 & 0x8000u) != 0u) {
    const uint32_t op = (hw2 >> 12) & 0x5u;
    if (op == 0x0u) {                                 /* B<cond>.W or misc control */
      ii->may_branch = ((hw1 >> 7) & 7u) != 7u;
    } else if (op == 0x1u || op == 0x5u) {            /* B.W, BL */
      ii->may_branch = 1;
    }
  }
}

static insn_info *decode(struct qemu_plugin_insn *insn) {
  insn_info *ii = g_new0(insn_info, 1);
  const uint8_t *b = qemu_plugin_insn_data(insn);
  ii->vaddr = qemu_plugin_insn_vaddr(insn);
  ii->size = (uint32_t)qemu_plugin_insn_size(insn);
  const uint32_t hw1 = (uint32_t)b[0] | ((uint32_t)b[1] << 8);
  if (ii->size >= 4u) {
    const uint32_t hw2 = (uint32_t)b[2] | ((uint32_t)b[3] << 8);
    classify32(hw1, hw2, ii);
  } else {
    classify16(hw1, ii);
  }
  return ii;
}

/* ---- execution --------------------------------------------------------------------------- */
static void close_interval(unsigned p) {
  interval_rec r;
  r.pair = p;
  r.index = pairs[p].index++;
  memcpy(r.counts, pairs[p].counts, sizeof r.counts);
  g_array_append_val(records, r);
  pairs[p].open = 0;
  n_open--;
}

static void on_insn(unsigned int vcpu, void *udata) {
  (void)vcpu;
  const insn_info *ii = udata;
  const insn_info *last = prev;
  prev = ii;
  const int taken = last != NULL && last->may_branch && ii->vaddr != last->vaddr + last->size;
  for (unsigned p = 0; p < n_pairs; ++p) {
    pair_state *ps = &pairs[p];
    if (ps->open) {
      /* The previous instruction was counted as its base class; move it if it branched. */
      if (taken) {
        ps->counts[last->cls]--;
        ps->counts[CLS_BRANCH]++;
      }
      if (ii->vaddr == ps->end) close_interval(p);
    }
    if (ii->vaddr == ps->start) {
      if (ps->open) {
        ps->restarts++;
        n_open--;
      }
      memset(ps->counts, 0, sizeof ps->counts);
      ps->open = 1;
      n_open++;
    }
    if (ps->open) ps->counts[ii->cls]++;
  }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  g_mutex_lock(&lock);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, decode(insn));
  }
  g_mutex_unlock(&lock);
}

static void on_plugin_exit(qemu_plugin_id_t id, void *p) {
  (void)id;
  (void)p;
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < records->len; ++i) {
    const interval_rec *r = &g_array_index(records, interval_rec, i);
    uint64_t total = 0;
    for (int c = 0; c < N_CLS; ++c) total += r->counts[c];
    g_string_append_printf(s, "interval pair=%u index=%" PRIu64 " total=%" PRIu64, r->pair,
                           r->index, total);
    for (int c = 0; c < N_CLS; ++c)
      g_string_append_printf(s, " %s=%" PRIu64, cls_names[c], r->counts[c]);
    g_string_append_c(s, '\n');
  }
  for (unsigned p = 0; p < n_pairs; ++p)
    g_string_append_printf(s, "pair=%u start=0x%" PRIx64 " end=0x%" PRIx64 " intervals=%" PRIu64
                           " restarts=%" PRIu64 " open_at_exit=%d\n",
                           p, pairs[p].start, pairs[p].end, pairs[p].index, pairs[p].restarts,
                           pairs[p].open);
  if (out_path != NULL) {
    FILE *f = fopen(out_path, "w");
    if (f != NULL) {
      fputs(s->str, f);
      fclose(f);
    } else {
      qemu_plugin_outs("kws_insn_count: cannot write the report file\n");
    }
  } else {
    qemu_plugin_outs(s->str);
  }
  g_string_free(s, TRUE);
}

static int parse_pair(const char *v, uint64_t *start, uint64_t *end) {
  char *colon = NULL;
  *start = g_ascii_strtoull(v, &colon, 0);
  if (colon == NULL || *colon != ':') return -1;
  char *rest = NULL;
  *end = g_ascii_strtoull(colon + 1, &rest, 0);
  if (rest == NULL || *rest != '\0') return -1;
  /* Thumb function symbols have bit 0 set; instruction addresses do not. */
  *start &= ~(uint64_t)1;
  *end &= ~(uint64_t)1;
  return 0;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv) {
  if (info->system_emulation && info->system.smp_vcpus != 1) {
    fprintf(stderr, "kws_insn_count: needs exactly one vCPU\n");
    return -1;
  }
  pairs = g_new0(pair_state, (gsize)argc + 1u);
  for (int i = 0; i < argc; ++i) {
    const char *a = argv[i];
    if (g_str_has_prefix(a, "pair=")) {
      uint64_t s, e;
      if (parse_pair(a + 5, &s, &e) != 0) {
        fprintf(stderr, "kws_insn_count: bad argument '%s' (want pair=0xSTART:0xEND)\n", a);
        return -1;
      }
      pairs[n_pairs].start = s;
      pairs[n_pairs].end = e;
      n_pairs++;
    } else if (g_str_has_prefix(a, "out=")) {
      out_path = g_strdup(a + 4);
    } else {
      fprintf(stderr, "kws_insn_count: unknown argument '%s'\n", a);
      return -1;
    }
  }
  if (n_pairs == 0u) {
    fprintf(stderr, "kws_insn_count: give at least one pair=0xSTART:0xEND\n");
    return -1;
  }
  records = g_array_new(FALSE, FALSE, sizeof(interval_rec));
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
  qemu_plugin_register_atexit_cb(id, on_plugin_exit, NULL);
  return 0;
}
