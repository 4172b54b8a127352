"""Small files in the formats `pilotgate numbering import` and `numbering ported import`
read: the regulator's registry (with and without the ИНН column) and a list of ported
numbers. Shared by the unit, storage and rule tests."""

from __future__ import annotations

#: An older DEF file: no ИНН column, operators known by their legal names.
DEF_WITHOUT_INN = """\
АВС/ DEF;От;До;Емкость;Оператор;Регион
916;0000000;9999999;10000000;ПАО "Мобильные ТелеСистемы";г. Москва и Московская область
920;0000000;4999999;5000000;ПАО "МегаФон";Нижегородская обл.
"""

#: A newer DEF file: the ИНН column, an operator no mapping knows, a malformed line (4) and
#: a range that ends before it starts (6).
DEF_WITH_INN = """\
АВС/ DEF;От;До;Емкость;Оператор;Регион;ИНН
908;0000000;7999999;8000000;ООО "Т2 Мобайл";Ростовская обл.;7743895280
958;0000000;0999999;1000000;ООО "Новый Оператор";Республика Татарстан;1650000000
958;1000000;abc;1;ООО "Т2 Мобайл";Республика Татарстан;7743895280
903;0000000;0999999;1000000;ПАО "Вымпел-Коммуникации";г. Москва;7713076301
903;2000000;1999999;1;ПАО "Вымпел-Коммуникации";г. Москва;7713076301
"""

#: A landline (ABC) file, for the plan's ranges outside 79.
ABC = """\
АВС/ DEF;От;До;Емкость;Оператор;Регион;ИНН
495;0000000;9999999;10000000;ПАО "Ростелеком";г. Москва;7707049388
"""

#: 79161234567 moved from MTS to MegaFon (by MNC), 79087964781 from Tele2 to Beeline (by
#: name); a header line, and one bad number (line 4).
PORTED = """\
number;operator
9161234567;02
79087964781;Beeline
12345;01
"""


def cp1251(text: str) -> bytes:
    return text.encode("cp1251")


def utf8(text: str) -> bytes:
    return text.encode("utf-8")
