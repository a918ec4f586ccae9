from decimal import Decimal

from sqlalchemy import Column, Integer, MetaData, Table, create_engine, func, insert, select

from app.engine.coltypes import ExactDecimal


def test_exact_decimal_roundtrip_order_and_compare(database_url: str) -> None:
    metadata = MetaData()
    table = Table("amounts", metadata, Column("id", Integer, primary_key=True), Column("v", ExactDecimal(18, 2)))
    engine = create_engine(database_url)
    metadata.create_all(engine)
    values = [Decimal("0.10"), Decimal("0.20"), Decimal("9999999999999.99"), Decimal("-1.05"), Decimal("2.73")]
    with engine.begin() as conn:
        conn.execute(insert(table), [{"v": v} for v in values])
        stored = conn.execute(select(table.c.v).order_by(table.c.v)).scalars().all()
        assert stored == sorted(values)
        assert all(isinstance(v, Decimal) for v in stored)
        # 0.1 + 0.2 is exactly 0.30 (a float column would not say so)
        assert conn.execute(select(table.c.v).where(table.c.v == Decimal("0.1"))).scalar() == Decimal("0.10")
        bigger = conn.execute(select(func.count()).where(table.c.v > Decimal("2.72"))).scalar()
        assert bigger == 2
    engine.dispose()
