// 5 lines 3 code 2 comments 0 blanks
/* entry point */
.globl _start
_start:
	mov $1, %eax
