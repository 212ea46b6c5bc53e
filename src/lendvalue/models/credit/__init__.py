"""Credit risk: PD scorecard, master scale, 五级分类, migration and PD term structures, LGD, EAD
and IRB capital."""
