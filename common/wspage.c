/*
 * wspage.c: the page of lesson 11's classroom server, common/wspage.html,
 * put into the program at build time so the HTML stays a file a person
 * can edit and open. `make` runs from the top of the tree, where the
 * assembler finds the file; mk/ws.mk makes this object depend on it.
 */
#include "wsserve.h"

__asm__(".section .rodata\n"
        ".global wspage\n"
        ".type wspage, @object\n"
        "wspage:\n"
        ".incbin \"common/wspage.html\"\n"
        "wspage_end:\n"
        ".byte 0\n"
        ".balign 4\n"
        ".global wspage_len\n"
        ".type wspage_len, @object\n"
        "wspage_len:\n"
        ".int wspage_end - wspage\n"
        ".previous\n");
