// 5 lines 3 code 2 comments 0 blanks
__global__ void k(int *x) {
  /* kernel body */
  x[0] = 1;
}
