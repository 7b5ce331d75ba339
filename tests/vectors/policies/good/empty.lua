-- Nothing said: every field takes the STANDARD preset's value.
return {}
