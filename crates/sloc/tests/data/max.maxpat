4 lines 4 code 0 comments 0 blanks
{
  "patcher": { "fileversion": 1 }
}
