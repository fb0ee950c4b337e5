/* malloc_probe.c - calls malloc; its link must fail (no heap on the board).
 * SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

int main(void) {
  void *p = malloc(16);
  return p == NULL;
}
