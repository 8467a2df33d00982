{{-- 5 lines 2 code 3 comments 0 blanks --}}
<div>{{ $name }}</div>
{{-- a Blade
comment --}}
@if($x) ok @endif
