// 3 lines 2 code 1 comments 0 blanks
float4 main() : SV_Target
{ return 0; }
