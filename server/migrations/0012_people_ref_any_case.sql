-- Finding people by the start of their reference, in any case, without reading the whole
-- register (the consent lookup and the people picker on a register of 100,000).
CREATE INDEX people_ref_nocase ON people (ext_ref COLLATE NOCASE);
