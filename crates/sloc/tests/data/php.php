<?php // 8 lines 4 code 3 comments 1 blanks
# hash comment
/* block
   comment */

$s = "not # a comment";
$t = 'single // quoted';
?>
