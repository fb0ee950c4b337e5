/*
 * hosted.c - newlib stdio over semihosting (rdimon) for programs written for a hosted C
 * library (fopen, printf), such as an exported library's example: linked only into targets
 * made with kws_add_m4_executable(... HOSTED), which allow the heap stdio needs.
 * SPDX-License-Identifier: Apache-2.0
 */
#include <stdio.h>

#include "kws_board.h"

void initialise_monitor_handles(void);

void kws_board_start_hook(void) { initialise_monitor_handles(); }

void kws_board_exit_hook(void) { (void)fflush(NULL); }
