" 6 lines 3 code 2 comments 1 blanks
set number
let g:name = 1
" a line comment

let s = '" not a comment'
