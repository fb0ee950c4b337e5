/*
 * app_main.c - main() for apps that take arguments: splits the semihosting command line
 * (qemu -append "...") into argv and calls kws_app_main(argc, argv).
 * SPDX-License-Identifier: Apache-2.0
 */
#include "kws_board.h"

int kws_app_main(int argc, char **argv);

#define KWS_MAX_ARGS 16

int main(void) {
  static char cmdline[512];
  char *argv[KWS_MAX_ARGS + 1];
  int argc = 0;
  argv[argc++] = "app";
  const int32_t n = kws_sh_cmdline(cmdline, sizeof cmdline);
  if (n < 0) {
    kws_puts("kws: cannot read the command line\n");
    return 96;
  }
  char *p = cmdline;
  while (*p != '\0' && argc < KWS_MAX_ARGS) {
    while (*p == ' ') *p++ = '\0';
    if (*p == '\0') break;
    argv[argc++] = p;
    while (*p != '\0' && *p != ' ') ++p;
  }
  argv[argc] = 0;
  return kws_app_main(argc, argv);
}
