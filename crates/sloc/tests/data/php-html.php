<?php // 7 lines 6 code 1 comments 0 blanks
$x = 1; ?>
<p>Don't stop</p>
<?php
// a real comment
echo "x"; ?>
<p>It's html</p>
