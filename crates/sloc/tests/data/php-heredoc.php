<?php // 9 lines 8 code 1 comments 0 blanks
$s = <<<EOT
# not a comment
/* not one either
  EOT;
// real
$t = foo(<<<'NOW'
  # text
  NOW, 1);
